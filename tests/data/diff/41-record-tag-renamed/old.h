#include <linux/types.h>
struct xenpmu_params {
	__u64 val;
	__u32 vcpu;
	__u32 pad;
};
