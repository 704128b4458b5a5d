#include <linux/types.h>
struct xen_dm_op {
	__u32 op;
	__u32 pad;
	union {
		__u64 ioreq_server;
		__u8 raw[16];
	} u;
};
