/* Vector members (GNU vector_size). Offsets and sizes are GCC's on every target: a vector is
 * placed at a multiple of its size (AAPCS: at most 8 on arm, 16 on aarch64), and on i386 an
 * integer vector of 8 bytes at most at 4 (i686 without MMX keeps it in an integer mode,
 * which ADJUST_FIELD_ALIGN caps: clang says 8 there, abiscope lays such records out with its
 * engine). GCC's _Alignof of a vector, and of a record holding one, answers at most
 * BIGGEST_ALIGNMENT (16 on x86, 8 on mips o32 and s390x, 2 on m68k) although its layouts
 * use the size (v9: the record is placed at 32 on x86-64); abiscope reports the alignment
 * its layouts use. See README "Known limitations" and tests/test_differential_constructs.py. */
typedef int v8i __attribute__((vector_size(8)));
struct v1 { char c; int v __attribute__((vector_size(16))); };
struct v2 { char c; int v __attribute__((vector_size(8))); };
struct v3 { char c; char v __attribute__((vector_size(4))); };
struct v4 { char c; int v __attribute__((vector_size(32))); };
struct v5 { char c; short v __attribute__((vector_size(8))); char d; };
struct v6 { char c; float v __attribute__((vector_size(8))); };
struct v7 { char c; struct { v8i v; } s; v8i a[2]; };
struct v8 { v8i v; char c; };
struct v9 { char c; struct { long long v __attribute__((vector_size(32))); } s; };
