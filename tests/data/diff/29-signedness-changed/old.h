#include <linux/types.h>
struct input_absinfo_abi {
	__s32 value;
	__s32 minimum;
};
