#include <linux/types.h>
struct evt {
	__u32 port;
	__u32 vcpu;
	__u32 flags;
};
