/*
 * Minimal model of Xen's public guest-handle and xen_ulong_t definitions, written for
 * abiscope from the facts of the xen-devel dm_op thread (see docs/seed.md).
 *
 * x86: XEN_GUEST_HANDLE(T) wraps a pointer of the guest's width; xen_ulong_t is
 *      unsigned long. (XEN_GUEST_HANDLE_64(T) comes from xen-handle64.h.)
 * Arm: every guest handle is 64-bit (a union of the pointer and an 8-aligned uint64_t)
 *      and xen_ulong_t is uint64_t.
 */
#ifndef ABISCOPE_SEED_XEN_ARCH_H
#define ABISCOPE_SEED_XEN_ARCH_H

#include "xen-handle64.h"

#if defined(__i386__) || defined(__x86_64__)
typedef struct { void *p; } __guest_handle_void;
typedef unsigned long xen_ulong_t;
#elif defined(__arm__) || defined(__aarch64__)
typedef union { void *p; uint64_aligned_t q; } __guest_handle_void;
typedef uint64_t xen_ulong_t;
#else
#error "Xen's public headers support x86 and Arm only"
#endif

#define XEN_GUEST_HANDLE(name)    __guest_handle_ ## name

#endif
