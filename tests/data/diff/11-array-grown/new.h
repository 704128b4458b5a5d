#include <linux/types.h>
struct ifreq_name {
	char name[32];
	__u32 index;
};
