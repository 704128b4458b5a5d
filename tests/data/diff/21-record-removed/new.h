#include <linux/types.h>
struct keep {
	__u32 b;
};
