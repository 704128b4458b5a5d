#include <linux/types.h>
struct ring_idx {
	__u32 prod;
	__u32 cons;
} __attribute__((aligned(64)));
