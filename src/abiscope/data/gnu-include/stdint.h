/* abiscope: <stdint.h> for Linux targets, with the fast types GCC and glibc give them.
 *
 * abiscope parses freestanding, with clang's own <stdint.h>. Its int_fast16_t and
 * int_fast32_t (and the unsigned ones) are the least types of 16 and 32 bits: short and
 * int. On Linux, GCC's <stdint.h> (gcc/config/glibc-stdint.h) and glibc's make them int
 * where long is 32 bits and long where long is 64 bits, so a struct holding one has
 * another layout. This file keeps everything else of clang's header and gives these four
 * types, and their limits, GCC's definition. abiscope puts its directory before clang's
 * builtin headers (after every -I dir) for the *-linux-gnu targets only.
 */
#ifndef __ABISCOPE_GNU_STDINT_H
#define __ABISCOPE_GNU_STDINT_H

#define int_fast16_t __abiscope_clang_int_fast16_t
#define int_fast32_t __abiscope_clang_int_fast32_t
#define uint_fast16_t __abiscope_clang_uint_fast16_t
#define uint_fast32_t __abiscope_clang_uint_fast32_t
#define __ABISCOPE_STDINT_NEXT
#include_next <stdint.h>
#undef __ABISCOPE_STDINT_NEXT
#undef int_fast16_t
#undef int_fast32_t
#undef uint_fast16_t
#undef uint_fast32_t

#if __SIZEOF_LONG__ == 8
typedef long int int_fast16_t;
typedef long int int_fast32_t;
typedef unsigned long int uint_fast16_t;
typedef unsigned long int uint_fast32_t;
#define __ABISCOPE_FAST_MAX __LONG_MAX__
#define __ABISCOPE_FAST_UMAX (__LONG_MAX__ * 2UL + 1UL)
#define __ABISCOPE_FAST_WIDTH __LONG_WIDTH__
#else
typedef int int_fast16_t;
typedef int int_fast32_t;
typedef unsigned int uint_fast16_t;
typedef unsigned int uint_fast32_t;
#define __ABISCOPE_FAST_MAX __INT_MAX__
#define __ABISCOPE_FAST_UMAX (__INT_MAX__ * 2U + 1U)
#define __ABISCOPE_FAST_WIDTH __INT_WIDTH__
#endif

#ifdef INT_FAST16_MAX
#undef INT_FAST16_MIN
#undef INT_FAST16_MAX
#undef UINT_FAST16_MAX
#undef INT_FAST32_MIN
#undef INT_FAST32_MAX
#undef UINT_FAST32_MAX
#define INT_FAST16_MIN (-__ABISCOPE_FAST_MAX - 1)
#define INT_FAST16_MAX __ABISCOPE_FAST_MAX
#define UINT_FAST16_MAX __ABISCOPE_FAST_UMAX
#define INT_FAST32_MIN (-__ABISCOPE_FAST_MAX - 1)
#define INT_FAST32_MAX __ABISCOPE_FAST_MAX
#define UINT_FAST32_MAX __ABISCOPE_FAST_UMAX
#endif
#ifdef INT_FAST16_WIDTH
#undef INT_FAST16_WIDTH
#undef UINT_FAST16_WIDTH
#undef INT_FAST32_WIDTH
#undef UINT_FAST32_WIDTH
#define INT_FAST16_WIDTH __ABISCOPE_FAST_WIDTH
#define UINT_FAST16_WIDTH __ABISCOPE_FAST_WIDTH
#define INT_FAST32_WIDTH __ABISCOPE_FAST_WIDTH
#define UINT_FAST32_WIDTH __ABISCOPE_FAST_WIDTH
#endif

#elif defined(__ABISCOPE_STDINT_NEXT)
/* This file was included by its path (--include resolves to one), so the #include_next
 * above searched from the start and found it again: from here, found through the search
 * path, the next <stdint.h> is clang's. */
#include_next <stdint.h>
#endif /* __ABISCOPE_GNU_STDINT_H */
