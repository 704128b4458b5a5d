/* Extended types GCC 12 accepts on some targets only (and clang there too), plain, _Atomic
 * (which makes abiscope lay the record out with its engine on every target) and in arrays:
 * __int128, __float128 (x86), _Float16 (x86_64, aarch64), __fp16 (aarch64), __bf16 (aarch64,
 * arm), __ibm128 (ppc). Each record exists on every target (its last member at least).
 * Compared with every Debian gcc by tests/test_differential_constructs.py. */
struct x_int128 {
    char c;
#ifdef __SIZEOF_INT128__
    __int128 a; unsigned __int128 b; _Atomic __int128 d; char e; __int128 f[2];
#endif
    char z;
};
struct x_float128 {
    char c;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__linux__)
    __float128 a; char b; _Atomic __float128 d; __float128 f[2];
#endif
    char z;
};
struct x_float16 {
    char c;
#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__linux__)
    _Float16 a; char b; _Atomic _Float16 d; _Float16 f[3]; _Complex _Float16 g;
#endif
    char z;
};
struct x_fp16 {
    char c;
#if defined(__aarch64__)
    __fp16 a; char b; _Atomic __fp16 d; __fp16 f[3];
#endif
    char z;
};
struct x_bf16 {
    char c;
/* (clang refuses __bf16 on M-profile Arm, armv7m; gcc accepts it) */
#if defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH_PROFILE != 'M')
    __bf16 a; char b; _Atomic __bf16 d; __bf16 f[3];
#endif
    char z;
};
struct x_ibm128 {
    char c;
#if defined(__powerpc__)
    __ibm128 a; char b; _Atomic __ibm128 d; __ibm128 f[2];
#endif
    char z;
};
struct x_held { char c; struct x_float16 h; _Atomic struct x_fp16 a; };
