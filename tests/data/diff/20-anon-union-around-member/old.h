#include <linux/types.h>
struct gnttab_copy_ptr {
	__u64 gmfn;
	__u16 domid;
};
