#include <linux/types.h>
struct e820_entry_abi {
	__u64 addr;
	__u64 size;
	__u32 type;
};
