#include <linux/types.h>
struct msg_hdr {
	__u32 type;
	__u32 len;
	__u64 data;
};
