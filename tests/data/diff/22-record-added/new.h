#include <linux/types.h>
struct keep {
	__u32 b;
};
struct new_cmd {
	__u32 a;
};
