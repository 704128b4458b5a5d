#include <linux/types.h>
struct vfio_irq_set {
	__u32 flags;
	__u32 count;
	__u8 data[];
};
