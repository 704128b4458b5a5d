/* ioctl requests with known compat classes (x86_64 native, i386 compat); checked against
 * gcc by tests/test_ioctls.py. Deliberately relies on its includer for <linux/ioctl.h>. */
#ifndef SAMPLE_IOCTLS_H
#define SAMPLE_IOCTLS_H
#include <linux/types.h>

struct smp_same { __u32 a; __u32 b; __u64 c; };           /* identical everywhere */
struct smp_long { __u32 flags; unsigned long addr; };      /* 8 vs 16 bytes */
struct smp_u64 { __u32 a; __u64 b; };                       /* 12 vs 16: alignment of u64 */
struct smp_ptr_union {                                      /* 16 both, pointer half differs */
	__u32 slot;
	__u32 pad;
	union { void *bitmap; __u64 padding; };
};
struct __attribute__((packed)) smp_long_bits { long lo : 16; long hi : 16; }; /* same bytes, a long */
struct smp_nested { __u32 n; struct smp_ptr_union inner; }; /* differs at depth */

#define SMP_NONE        _IO('S', 0)
#define SMP_SAME        _IOW('S', 1, struct smp_same)
#define SMP_LONG        _IOWR('S', 2, struct smp_long)
#define SMP_U64         _IOR('S', 3, struct smp_u64)
#define SMP_PTR_UNION   _IOW('S', 4, struct smp_ptr_union)
#define SMP_LONG_BITS   _IOW('S', 5, struct smp_long_bits)
#define SMP_NESTED      _IOW('S', 6, struct smp_nested)
#define SMP_INT         _IOR('S', 7, int)
#define SMP_ULONG       _IOR('S', 8, unsigned long)
#define SMP_IOC         _IOC(_IOC_READ, 'S', 9, sizeof(struct smp_long))
#define SMP_SIZE_T      _IOW('S', 10, size_t)
#define SMP_BROKEN      _IOW('S', 11, struct smp_missing)
#endif
