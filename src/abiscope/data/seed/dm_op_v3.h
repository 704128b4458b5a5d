/* Design A: struct xen_dm_op_buf as posted in PATCH v3 (64-bit handle + uint32_t size). */
#ifndef ABISCOPE_SEED_DM_OP_V3_H
#define ABISCOPE_SEED_DM_OP_V3_H

#include "xen-handle64.h"

struct xen_dm_op_buf_v3 {
    XEN_GUEST_HANDLE_64(void) h;
    uint32_t size;
};

/* Design A+pad: v3 with the padding made explicit, as the review asked. */
struct xen_dm_op_buf_v3_pad {
    XEN_GUEST_HANDLE_64(void) h;
    uint32_t size;
    uint32_t pad;
};

#endif
