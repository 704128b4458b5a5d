#include <linux/types.h>
struct xen_domctl_getdomaininfo {
	__u32 domain;
	__u32 flags;
	__u64 tot_pages;
	__u32 max_pages;
};
