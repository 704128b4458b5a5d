#include <linux/types.h>
struct xen_pmu_params {
	__u64 val;
	__u32 vcpu;
	__u32 pad;
};
