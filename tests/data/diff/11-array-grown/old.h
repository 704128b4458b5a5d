#include <linux/types.h>
struct ifreq_name {
	char name[16];
	__u32 index;
};
