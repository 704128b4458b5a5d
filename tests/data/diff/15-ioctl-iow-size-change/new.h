#include <linux/types.h>
#include <linux/ioctl.h>
struct dm_ioctl_arg {
	__u32 version;
	__u32 flags;
	__u64 dev;
};
#define DM_CMD _IOW('d', 1, struct dm_ioctl_arg)
