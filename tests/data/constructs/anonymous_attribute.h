/* An attribute written before an anonymous member's struct keyword: GCC ignores it (no
 * warning), clang aligns the member (8 bytes against 16 here, on every target). Written
 * after the body, or after the keyword, both compilers apply it. Known; see README "Known
 * limitations" and tests/test_differential_constructs.py. */
struct before { char c; __attribute__((aligned(8))) struct { char d; }; int i; };
struct after_body { char c; struct { char d; } __attribute__((aligned(8))); int i; };
struct after_keyword { char c; struct __attribute__((aligned(8))) { char d; }; int i; };
struct named { char c; __attribute__((aligned(8))) struct { char d; } n; int i; };
