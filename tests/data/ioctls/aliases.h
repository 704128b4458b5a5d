/* ioctl requests defined through another name: aliases of requests (of this header and of
 * another), wrappers of _IO*, and macros that look alike but make no request. Checked
 * against gcc by tests/test_ioctls.py. Relies on its includer for <linux/ioctl.h>. */
#ifndef ALIAS_IOCTLS_H
#define ALIAS_IOCTLS_H
#include <linux/types.h>
#include <linux/fd.h>

struct als_arg { __u32 a; unsigned long b; };

#define ALS_BASE      _IOW('A', 1, struct als_arg)
#define ALS_ALIAS     ALS_BASE                 /* an alias */
#define ALS_ALIAS2    (ALS_ALIAS)              /* an alias of an alias, in parentheses */
#define ALS_EARLY     ALS_LATE                 /* its request is defined after it */
#define ALS_LATE      _IOR('A', 2, __u64)
#define _ALS_IOWR     _IOWR                    /* another name for _IOWR (soundcard.h's _SIOWR) */
#define ALS_WRAPPED   _ALS_IOWR('A', 3, struct als_arg) /* a request through it */
#define ALS_WALIAS    ALS_WRAPPED
#define ALS_FN(nr)    _IO('A', nr)             /* a function-like wrapper */
#define ALS_CALLED    ALS_FN(4)
#define ALS_FDPRM     FDDEFPRM                 /* an alias of another header's request */
#define ALS_COUNT     4                        /* and no requests: */
#define ALS_NOT       ALS_COUNT
#define ALS_SELF      ALS_SELF
#define ALS_LOOP1     ALS_LOOP2
#define ALS_LOOP2     ALS_LOOP1
#define ALS_MAKER     _IO
#define ALS_UNKNOWN   ALS_NOWHERE
#endif
