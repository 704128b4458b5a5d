#include <linux/types.h>
struct acrn_mmio_request {
	__u32 direction;
	__u32 reserved;
	__u64 address;
	__u64 size;
	__u64 value;
};
