#include <linux/types.h>
struct hv_val {
	__u32 lo;
	__u32 hi;
};
