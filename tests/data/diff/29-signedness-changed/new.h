#include <linux/types.h>
struct input_absinfo_abi {
	__u32 value;
	__s32 minimum;
};
