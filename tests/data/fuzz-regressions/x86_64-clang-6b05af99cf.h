/* abiscope differential-fuzzing regression (bench/fuzz_layout.py)
 * target: x86_64
 * side: clang
 * status: fixed
 * compared: abiscope layout (frontend.parse) vs x86_64-linux-gnu-gcc (DWARF)
 * found: struct r1: (size, align, kind) abiscope (2, 2, 'struct'), gcc (4, 2, 'struct'); ('b', 8, 3, True) != ('b', 16, 3, True) (known clang-vs-GCC divergence: README Known limitations; excluded from the fuzzing)
 */
#include <stdint.h>
#include <stddef.h>
#pragma pack(2)
struct r1 {
    char a;
    int b : 3 __attribute__((aligned(4)));
};
