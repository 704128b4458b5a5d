#include <linux/types.h>
struct privcmd_buf {
	void *uptr;
	__u32 size;
};
