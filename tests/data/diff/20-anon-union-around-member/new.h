#include <linux/types.h>
struct gnttab_copy_ptr {
	union {
		__u64 gmfn;
		__u32 ref;
	};
	__u16 domid;
};
