#include <linux/types.h>
struct old_cmd {
	__u32 a;
};
struct keep {
	__u32 b;
};
