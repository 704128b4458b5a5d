#include <linux/types.h>
struct xen_dm_op_create_ioreq_server {
	__u8 handle_bufioreq;
	__u8 pad[1];
	__u16 id;
};
struct xen_dm_op {
	__u32 op;
	__u32 pad;
	union {
		struct xen_dm_op_create_ioreq_server create_ioreq_server;
		__u64 raw[2];
	} u;
};
