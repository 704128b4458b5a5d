/*
 * Xen's 64-bit guest handle, as x86_32 builds it, written for abiscope from the facts of the
 * xen-devel dm_op thread (see docs/seed.md): an 8-byte union of a pointer and a uint64_t
 * forced to 8-byte alignment, the same on every target.
 */
#ifndef ABISCOPE_SEED_XEN_HANDLE64_H
#define ABISCOPE_SEED_XEN_HANDLE64_H

#include <stdint.h>

typedef uint64_t uint64_aligned_t __attribute__((aligned(8)));
typedef union { void *p; uint64_aligned_t q; } __guest_handle_64_void;

#define XEN_GUEST_HANDLE_64(name) __guest_handle_64_ ## name

#endif
