#include <linux/types.h>
struct privcmd_buf {
	__u64 uptr;
	__u32 size;
};
