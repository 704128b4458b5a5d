#include <linux/types.h>
union hv_val {
	__u32 lo;
	__u32 hi;
};
