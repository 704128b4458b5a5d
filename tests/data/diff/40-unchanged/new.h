#include <linux/types.h>
/* a comment moved things down */

struct same {
	__u32 a;
	__u64 b;
};
