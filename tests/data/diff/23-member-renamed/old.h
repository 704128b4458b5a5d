#include <linux/types.h>
struct sched_param_abi {
	__u32 prio;
	__u32 policy;
};
