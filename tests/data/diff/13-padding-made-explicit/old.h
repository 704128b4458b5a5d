#include <linux/types.h>
struct kvm_msi {
	__u32 flags;
	__u64 data __attribute__((aligned(8)));
};
