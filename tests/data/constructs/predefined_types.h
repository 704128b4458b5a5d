/* The compiler's predefined type macros, written directly (no <stdint.h>), and their
 * limits as array sizes: one byte when the limit is what the type holds. GCC gives the
 * Linux targets long or int for the fast 16- and 32-bit types (gcc/config/glibc-stdint.h)
 * and __SIG_ATOMIC_TYPE__; clang predefines the least types and no __SIG_ATOMIC_TYPE__. */

struct predefined_fast {
	char c0; __INT_FAST8_TYPE__ i8; char c1; __UINT_FAST8_TYPE__ u8;
	char c2; __INT_FAST16_TYPE__ i16; char c3; __UINT_FAST16_TYPE__ u16;
	char c4; __INT_FAST32_TYPE__ i32; char c5; __UINT_FAST32_TYPE__ u32;
	char c6; __INT_FAST64_TYPE__ i64; char c7; __UINT_FAST64_TYPE__ u64;
};

struct predefined_least {
	char c0; __INT_LEAST8_TYPE__ i8; char c1; __UINT_LEAST16_TYPE__ u16;
	char c2; __INT_LEAST32_TYPE__ i32; char c3; __UINT_LEAST64_TYPE__ u64;
};

struct predefined_other {
	char c0; __SIG_ATOMIC_TYPE__ sig; char c1; __SIZE_TYPE__ sz;
	char c2; __PTRDIFF_TYPE__ pd; char c3; __WCHAR_TYPE__ wc;
	char c4; __WINT_TYPE__ wi; char c5; __INTMAX_TYPE__ im;
	char c6; __UINTMAX_TYPE__ um; char c7; __INTPTR_TYPE__ ip;
	char c8; __UINTPTR_TYPE__ up; char c9; __CHAR16_TYPE__ c16;
	char c10; __CHAR32_TYPE__ c32;
};

struct predefined_fast_limits {
	char max16[__INT_FAST16_MAX__ == (__INT_FAST16_TYPE__)((__UINT_FAST16_TYPE__)-1 >> 1)
		   ? 1 : 2];
	char max32[__INT_FAST32_MAX__ == (__INT_FAST32_TYPE__)((__UINT_FAST32_TYPE__)-1 >> 1)
		   ? 1 : 2];
	char umax16[__UINT_FAST16_MAX__ == (__UINT_FAST16_TYPE__)-1 ? 1 : 2];
	char umax32[__UINT_FAST32_MAX__ == (__UINT_FAST32_TYPE__)-1 ? 1 : 2];
	char width16[__INT_FAST16_WIDTH__ == 8 * sizeof(__INT_FAST16_TYPE__) ? 1 : 2];
	char width32[__INT_FAST32_WIDTH__ == 8 * sizeof(__INT_FAST32_TYPE__) ? 1 : 2];
	char bytes16[sizeof(__INT_FAST16_TYPE__)];
	char bytes32[sizeof(__UINT_FAST32_TYPE__)];
};

#if __INT_FAST16_WIDTH__ == 64
struct predefined_wide_fast16 { long a; };
#else
struct predefined_wide_fast16 { char a; };
#endif
