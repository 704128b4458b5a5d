/* Every type of <stdint.h> and <stddef.h>, and the limits of the fast types as array sizes:
 * what a compiler's own headers give a freestanding parse. abiscope takes clang's headers
 * with GCC's fast types on Linux (src/abiscope/data/gnu-include/stdint.h). */
#include <stddef.h>
#include <stdint.h>

struct exact {
	int8_t i8; uint8_t u8; int16_t i16; uint16_t u16;
	int32_t i32; uint32_t u32; int64_t i64; uint64_t u64;
};

struct least {
	int_least8_t i8; uint_least8_t u8; int_least16_t i16; uint_least16_t u16;
	int_least32_t i32; uint_least32_t u32; int_least64_t i64; uint_least64_t u64;
};

struct fast {
	int_fast8_t i8; uint_fast8_t u8; int_fast16_t i16; uint_fast16_t u16;
	int_fast32_t i32; uint_fast32_t u32; int_fast64_t i64; uint_fast64_t u64;
};

struct each_after_char {
	char c0; int_fast16_t f16; char c1; uint_fast32_t f32; char c2; int_fast64_t f64;
	char c3; intptr_t ip; char c4; intmax_t im; char c5; size_t sz; char c6; ptrdiff_t pd;
	char c7; wchar_t wc;
};

struct pointer_sized {
	intptr_t ip; uintptr_t up; intmax_t im; uintmax_t um;
	size_t sz; ptrdiff_t pd; wchar_t wc;
};

/* the limits as compile-time sizes: one byte when they are what the type holds */
struct fast_limits {
	char max16[INT_FAST16_MAX == (int_fast16_t)((uint_fast16_t)-1 >> 1) ? 1 : 2];
	char max32[INT_FAST32_MAX == (int_fast32_t)((uint_fast32_t)-1 >> 1) ? 1 : 2];
	char umax16[UINT_FAST16_MAX == (uint_fast16_t)-1 ? 1 : 2];
	char umax32[UINT_FAST32_MAX == (uint_fast32_t)-1 ? 1 : 2];
	char min16[INT_FAST16_MIN == -INT_FAST16_MAX - 1 ? 1 : 2];
	char min32[INT_FAST32_MIN == -INT_FAST32_MAX - 1 ? 1 : 2];
	char width16[sizeof(int_fast16_t) * 8 == (sizeof(long) == 8 ? 64 : 32) ? 1 : 2];
};
