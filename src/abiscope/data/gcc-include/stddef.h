/* abiscope: <stddef.h> for the targets a GCC compiles, with the max_align_t GCC gives them.
 *
 * clang's <stddef.h> defines max_align_t with a long long and a long double member; GCC's
 * (gcc/ginclude/stddef.h) adds a __float128 member on i386, so there it is 48 bytes with
 * alignment 16, not 24 and 8, and every record that embeds one moves
 * (struct { char c; max_align_t m; }: m at 16, 64 bytes). This file keeps everything else
 * of clang's header (the __need_* protocol included) and defines max_align_t as GCC does,
 * with GCC's member names, wherever clang's header would have defined it. abiscope puts
 * its directory before clang's builtin headers (after every -I dir) for the targets whose
 * compiler is a GCC (Linux, bare metal, MinGW; every GCC ships this header), not for
 * MSVC's or clang-only targets. On MinGW, GCC's header hands over to mingw-w64's, whose
 * max_align_t has no __float128 member on i686 either. No include guard: <stddef.h> is included again for each __need_* macro.
 */
#if (!defined(__need_ptrdiff_t) && !defined(__need_size_t) && !defined(__need_rsize_t) \
     && !defined(__need_wchar_t) && !defined(__need_NULL) && !defined(__need_nullptr_t) \
     && !defined(__need_unreachable) && !defined(__need_offsetof)                       \
     && !defined(__need_wint_t) && defined(__STDC_VERSION__)                           \
     && __STDC_VERSION__ >= 201112L) || defined(__need_max_align_t)
#define __ABISCOPE_WANT_MAX_ALIGN_T
#endif
#ifndef __CLANG_MAX_ALIGN_T_DEFINED
#define __CLANG_MAX_ALIGN_T_DEFINED /* clang's max_align_t never: GCC's, below */
#endif

#include_next <stddef.h>

#if defined(__ABISCOPE_WANT_MAX_ALIGN_T) && !defined(_GCC_MAX_ALIGN_T)
#define _GCC_MAX_ALIGN_T
typedef struct {
  long long __max_align_ll __attribute__((__aligned__(__alignof__(long long))));
  long double __max_align_ld __attribute__((__aligned__(__alignof__(long double))));
#if defined(__i386__) && !defined(__MINGW32__) /* (mingw-w64's own <stddef.h> has none) */
  __float128 __max_align_f128 __attribute__((__aligned__(__alignof(__float128))));
#endif
} max_align_t;
#endif
#undef __ABISCOPE_WANT_MAX_ALIGN_T
