/* abiscope differential-fuzzing regression (bench/fuzz_layout.py)
 * target: i386
 * side: clang
 * status: fixed
 * compared: abiscope layout (frontend.parse) vs i686-linux-gnu-gcc (DWARF)
 * found: struct r0: (size, align, kind) abiscope (8, 8, 'struct'), gcc (8, 4, 'struct')
 */
#include <stdint.h>
#include <stddef.h>
struct r0 {
    _Atomic int64_t f0;
};
