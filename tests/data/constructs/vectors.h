/* Vector members: clang's alignment differs from GCC's on mips (a 16-byte vector: 16 against
 * 8), s390x (16 against 8) and i386 (an 8-byte vector member: 8 against 4). Known; see
 * README "Known limitations" and tests/test_differential_constructs.py. */
struct v1 { char c; int v __attribute__((vector_size(16))); };
struct v2 { char c; int v __attribute__((vector_size(8))); };
struct v3 { char c; char v __attribute__((vector_size(4))); };
