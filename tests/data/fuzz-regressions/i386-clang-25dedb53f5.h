/* abiscope differential-fuzzing regression (bench/fuzz_layout.py)
 * target: i386
 * side: clang
 * status: fixed
 * compared: abiscope layout (frontend.parse) vs i686-linux-gnu-gcc (DWARF)
 * found: r1_t: (size, align, kind) abiscope (8, 8, 'union'), gcc (8, 4, 'union')
 */
#include <stdint.h>
#include <stddef.h>
typedef union {
    _Atomic(int64_t) f2[1];
} r1_t;
