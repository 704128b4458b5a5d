/* abiscope differential-fuzzing regression (bench/fuzz_layout.py)
 * target: i386
 * side: clang
 * status: fixed
 * compared: abiscope layout (frontend.parse) vs i686-linux-gnu-gcc (DWARF)
 * found: struct r2: (size, align, kind) abiscope (8, 4, 'struct'), gcc (8, 8, 'struct')
 */
#include <stdint.h>
#include <stddef.h>
typedef float t0 __attribute__((vector_size(8)));
struct r2 {
    union {
        t0 f1;
    } f2;
};
