#include <linux/types.h>
struct kvm_irq_level {
	__u32 irq;
	__u32 level;
};
