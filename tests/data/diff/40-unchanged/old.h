#include <linux/types.h>
struct same {
	__u32 a;
	__u64 b;
};
