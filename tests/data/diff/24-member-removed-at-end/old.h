#include <linux/types.h>
struct stat_abi {
	__u32 mode;
	__u32 nlink;
	__u32 unused4;
	__u32 unused5;
	__u32 blksize;
};
