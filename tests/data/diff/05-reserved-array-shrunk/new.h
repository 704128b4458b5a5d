#include <linux/types.h>
struct kvm_enable_cap {
	__u32 cap;
	__u32 flags;
	__u64 args[4];
	__u32 vcpu;
	__u8 pad[60];
};
