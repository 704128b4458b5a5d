#include <linux/types.h>
union hv_arg {
	__u32 port;
	__u64 handle;
	__u8 raw[32];
};
