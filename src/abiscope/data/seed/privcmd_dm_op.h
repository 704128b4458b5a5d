/* Design B: the reviewer's userspace struct, as Linux's privcmd UAPI adopted it. */
#ifndef ABISCOPE_SEED_PRIVCMD_DM_OP_H
#define ABISCOPE_SEED_PRIVCMD_DM_OP_H

#include <stddef.h>

struct privcmd_dm_op_buf {
    void *uptr;
    size_t size;
};

struct privcmd_dm_op {
    unsigned short dom;
    unsigned short num;
    const struct privcmd_dm_op_buf *ubufs;
};

#define IOCTL_PRIVCMD_DM_OP \
    (((0U) << 30) | ((sizeof(struct privcmd_dm_op)) << 16) | (('P') << 8) | (5))

#endif
