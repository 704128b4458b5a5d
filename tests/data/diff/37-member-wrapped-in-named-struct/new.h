#include <linux/types.h>
struct msg_hdr {
	struct {
		__u32 type;
		__u32 len;
	} hdr;
	__u64 data;
};
