/* Design B: the reviewer's userspace struct, as Linux's privcmd UAPI adopted it. */
#ifndef ABISCOPE_SEED_PRIVCMD_DM_OP_H
#define ABISCOPE_SEED_PRIVCMD_DM_OP_H

#include <stddef.h>

#include "ioctl.h"

struct privcmd_dm_op_buf {
    void *uptr;
    size_t size;
};

struct privcmd_dm_op {
    unsigned short dom;
    unsigned short num;
    const struct privcmd_dm_op_buf *ubufs;
};

/* As in Linux's include/uapi/xen/privcmd.h: the size of the argument struct is encoded. */
#define IOCTL_PRIVCMD_DM_OP \
    _IOC(_IOC_NONE, 'P', 5, sizeof(struct privcmd_dm_op))

#endif
