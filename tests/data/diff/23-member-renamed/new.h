#include <linux/types.h>
struct sched_param_abi {
	__u32 priority;
	__u32 policy;
};
