/* abiscope differential-fuzzing regression (bench/fuzz_layout.py)
 * target: i386
 * side: clang
 * status: fixed
 * compared: abiscope layout (frontend.parse) vs i686-linux-gnu-gcc (DWARF)
 * found: union r0: (size, align, kind) abiscope (8, 8, 'union'), gcc (8, 4, 'union')
 */
#include <stdint.h>
#include <stddef.h>
union r0 {
    _Atomic long long f0 __attribute__((aligned(1)));
    struct {
    } f2;
};
