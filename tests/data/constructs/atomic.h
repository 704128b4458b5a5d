/* _Atomic members of every scalar and record kind, both spellings, through typedefs and
 * arrays, under packed, #pragma pack and aligned(N): GCC keeps an atomic type's size and
 * aligns one of 1, 2, 4, 8 or 16 bytes at least to its size (capped by BIGGEST_ALIGNMENT);
 * clang pads and aligns atomics to a power of two. Compared with every Debian gcc by
 * tests/test_differential_constructs.py. Records named a_ptr_* hold a pointer or a long
 * (the hypothetical targets' widths differ from x86_64's there). */
typedef unsigned long long u64;
typedef signed char s8;
typedef _Atomic u64 atomic_u64;
typedef u64 u64_a2 __attribute__((aligned(2)));
typedef u64 u64_a16 __attribute__((aligned(16)));
typedef _Atomic u64 atomic_u64_a2 __attribute__((aligned(2)));
typedef _Atomic int atomic_int_a16 __attribute__((aligned(16)));
enum ae { AE_A, AE_B };
enum __attribute__((packed)) ape { APE_A, APE_B = 200 };

struct a_bool { char c; _Atomic _Bool a; };
struct a_char { char c; _Atomic char a; _Atomic(s8) b; _Atomic unsigned char d; };
struct a_short { char c; _Atomic short a; };
struct a_int { char c; _Atomic int a; };
struct a_llong { char c; _Atomic long long a; _Atomic char d; };
struct a_u64 { char c; _Atomic(u64) a; atomic_u64 b; _Atomic char d; };
struct a_float { char c; _Atomic float a; };
struct a_double { char c; _Atomic double a; };
struct a_ldouble { char c; _Atomic long double a; };
struct a_cfloat { char c; _Atomic _Complex float a; };
struct a_cdouble { char c; _Atomic _Complex double a; };
struct a_cldouble { char c; _Atomic _Complex long double a; };
struct a_cchar { char c; _Atomic _Complex char a; };
struct a_cshort { char c; _Atomic _Complex short a; };
struct a_cint { char c; _Atomic _Complex int a; };
struct a_enum { char c; _Atomic enum ae a; _Atomic(enum ape) b; };
struct a_quals { char c; const _Atomic volatile short a; volatile _Atomic(long long) b; };
struct a_ptr_void { char c; _Atomic(void *) a; };
struct a_ptr_fn { char c; void (*_Atomic a)(void); };
struct a_ptr_const { char c; _Atomic(int *) const a; _Atomic int *b; };
struct a_ptr_long { char c; _Atomic long a; _Atomic unsigned long b; };
struct a_wide {
    char c;
#if defined(__SIZEOF_INT128__)
    _Atomic __int128 a;
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__linux__)
    _Atomic __float128 b;
#endif
#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__linux__)
    _Atomic _Float16 d;
#endif
    char e;
};

struct r0 { };
struct r1 { char a; };
struct r2 { char a[2]; };
struct r3 { char a[3]; };
struct r4 { char a[4]; };
struct r5 { char a[5]; };
struct r6 { short a[3]; };
struct r7 { char a[7]; };
struct r8 { char a[8]; };
struct r8i { int a, b; };
struct r12 { char a[12]; };
struct r16 { char a[16]; };
struct r16l { long long a, b; };
struct r24 { char a[24]; };
struct r32 { char a[32]; };
union u8 { char a[8]; int i; };
union u3 { char a[3]; };
struct __attribute__((packed)) rp8 { char c; int i; short s; char d; };
struct __attribute__((aligned(8))) ra8 { char c; };
struct a_r0 { char c; _Atomic struct r0 a; char d; };
struct a_r1 { char c; _Atomic struct r1 a; };
struct a_r2 { char c; _Atomic struct r2 a; };
struct a_r3 { char c; _Atomic struct r3 a; char d; };
struct a_r4 { char c; _Atomic struct r4 a; };
struct a_r5 { char c; _Atomic struct r5 a; };
struct a_r6 { char c; _Atomic struct r6 a; };
struct a_r7 { char c; _Atomic struct r7 a; };
struct a_r8 { char c; _Atomic struct r8 a; };
struct a_r8i { char c; _Atomic(struct r8i) a; };
struct a_r12 { char c; _Atomic struct r12 a; };
struct a_r16 { char c; _Atomic struct r16 a; };
struct a_r16l { char c; _Atomic(struct r16l) a; };
struct a_r24 { char c; _Atomic struct r24 a; };
struct a_r32 { char c; _Atomic struct r32 a; };
struct a_u8 { char c; _Atomic union u8 a; };
struct a_u3 { char c; _Atomic union u3 a; char d; };
struct a_rp8 { char c; _Atomic struct rp8 a; };
struct a_ra8 { char c; _Atomic struct ra8 a; };
struct a_anon { char c; _Atomic(struct { char x[4]; }) a; };

/* arrays of atomics, flexible and zero-length ones */
struct a_arr { char c; _Atomic short a[3]; _Atomic(struct r2) b[2]; atomic_u64 d[2]; };
struct a_flex { char c; _Atomic short n; _Atomic(u64) data[]; };
struct a_zero { char c; _Atomic struct r8 z[0]; };

/* aligned typedefs and members */
struct a_td_low { char c; _Atomic u64_a2 a; };
struct a_td_high { char c; _Atomic u64_a16 a; };
struct a_atd_low { char c; atomic_u64_a2 a; };
struct a_atd_high { char c; atomic_int_a16 a; };
struct a_mem_low { char c; _Atomic long long a __attribute__((aligned(2))); };
struct a_mem_high { char c; _Atomic short a __attribute__((aligned(8))); };
struct a_alignas { char c; _Alignas(16) _Atomic int a; };

/* packed and #pragma pack */
struct __attribute__((packed)) a_packed { char c; _Atomic long long a; _Atomic struct r4 b; };
struct a_mpacked { char c; _Atomic long long a __attribute__((packed)); };
#pragma pack(push, 2)
struct a_pack2 { char c; _Atomic long long a; _Atomic struct r8 b; };
#pragma pack(pop)
#pragma pack(push, 4)
struct a_pack4 { char c; _Atomic _Complex double a; _Atomic struct r16 b; };
#pragma pack(pop)

/* records that hold atomics, nested and in unions, with bit-fields */
struct a_outer { char c; struct a_llong in; _Atomic struct r3 r; };
union a_union { _Atomic char c; _Atomic long long l; _Atomic struct r16 r; };
struct a_bits { char c : 3; _Atomic char d; int e : 5; _Atomic short f; };
struct a_nested_anon { char c; struct { char x; _Atomic long long y; }; union { _Atomic int z; char w; }; };

/* qualifiers added to atomic typedefs; arrays of qualified element types */
typedef _Atomic u64 atomic_u64_a16b __attribute__((aligned(16)));
typedef volatile u64 volatile_u64_a2 __attribute__((aligned(2)));
struct a_cq_low { char c; const atomic_u64_a2 a; volatile atomic_u64_a2 b; };
struct a_cq_high { char c; const atomic_u64_a16b a; };
struct a_arr_q { char c; const atomic_u64 a[2]; atomic_u64_a2 b[2]; _Atomic u64_a2 d[2];
                 _Atomic(u64_a2) e[2]; char f; _Atomic(u64_a2) g[2]; };
struct a_arr_rec { char c; _Atomic struct r8 a[2]; _Atomic(struct r16l) b[1][2]; };
struct a_arr_cplx { char c; _Atomic _Complex double a[2]; _Atomic _Complex float b[2];
                    _Atomic double d[2]; _Atomic long double e[2]; };

/* i386: an 8-aligned record of 8 bytes (only an _Atomic member makes one without an explicit
 * alignment) is 4-aligned as a member and by _Alignof, unless its mode is SCmode or a vector's */
struct i_q1 { _Atomic long long f0; };
struct i_w1 { struct i_q1 a; };
struct i_w2 { char c; struct i_q1 a; };
struct i_w5 { _Atomic struct r8 x; };
struct i_w7 { _Atomic long long a[1]; };
struct i_w8 { _Atomic(struct { _Atomic _Complex float z; }) x; };
struct i_w9 { _Atomic _Complex int z; };
union i_w10 { _Atomic long long a; char b; };
union i_w11 { _Atomic _Complex float z; char b; };
struct i_w15 { char c; struct i_q1 a[2]; };
struct i_w16 { char c; struct i_w5 a; };
struct i_w17 { char c; struct i_w8 a; };
struct i_w18 { _Atomic float a[2]; };
struct i_w19 { _Atomic _Complex float z[1]; };
struct i_w20 { _Atomic long long a; } __attribute__((aligned(8)));
struct i_w21 { _Atomic long long a __attribute__((aligned(8))); };
struct i_w22 { char c; struct i_w20 a; struct i_w21 b; };
struct i_w23 { struct i_w20 a; };
struct i_w24 { char c; _Atomic struct i_q1 a[2]; };
struct i_w25 { char c; _Atomic struct i_q1 a; };
struct i_w26 { _Atomic long long a; } __attribute__((packed));
#pragma pack(2)
struct i_w27 { _Atomic long long a; };
#pragma pack()
struct i_w28 { char c; struct i_w7 a[2]; };
struct i_w29 { _Atomic long long a; char b[0]; };
union i_w30 { _Atomic long long a; char b[3]; };
union i_w31 { _Atomic long long a; struct r3 b; };
struct i_w32 { _Atomic struct r8 a; struct r0 z; };
union i_w33 { _Atomic long long a; struct { char x[3]; char y; } b; };
struct i_w34 { _Atomic long long z[0]; };
struct i_w35 { char c; struct i_w34 a; };
struct __attribute__((aligned(16))) a_user16 { char c; };
union a_ptr_w36 { void *p; _Atomic struct a_user16 z[0]; };
struct i_w37 { struct a_user16 a[0]; _Atomic long long b; };
typedef union { int a; char b[12]; } tagless_u12;
typedef union { int a; char b[8]; } tagless_u8;
struct a_tagless { char c; _Atomic(tagless_u12) a; _Atomic tagless_u8 b; tagless_u8 d;
                   _Atomic(tagless_u8) e[2]; _Atomic(tagless_u12) f; };
union i_w38 { _Atomic long long f0 __attribute__((aligned(1))); struct r0 f2; };
struct i_w39 { _Atomic long long f0 __attribute__((aligned(4))); };
struct i_w40 { _Atomic long long f0 __attribute__((aligned(8))); };
/* i386: a vector member makes a record BLKmode (member_type_forces_blk); not on m68k, where
 * an 8-byte vector is above BIGGEST_ALIGNMENT (README, Known limitations) */
#ifdef __m68k__
typedef short v2sf;
#else
typedef float v2sf __attribute__((vector_size(8)));
#endif
union i_w41 { v2sf f1; };
union i_w42 { v2sf f1; char c; };
union i_w43 { _Atomic _Complex float z; };
struct i_w44 { union { v2sf f1; } f2; };
union i_w45 { struct { v2sf f1; } s; };
struct i_w46 { char c; union i_w41 a; };
