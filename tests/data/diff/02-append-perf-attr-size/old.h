#include <linux/types.h>
struct perf_attr {
	__u32 type;
	__u32 size;
	__u64 config;
};
