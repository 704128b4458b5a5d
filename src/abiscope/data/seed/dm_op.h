/* Design C: struct xen_dm_op_buf as Xen merged it (guest handle + xen_ulong_t). */
#ifndef ABISCOPE_SEED_DM_OP_H
#define ABISCOPE_SEED_DM_OP_H

#include "xen-arch.h"

struct xen_dm_op_buf {
    XEN_GUEST_HANDLE(void) h;
    xen_ulong_t size;
};

#endif
