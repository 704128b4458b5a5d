/* Test header for layout-lock headers: sizes and offsets that differ between targets. */
#ifndef CODEGEN_TEST_LOCKS_H
#define CODEGEN_TEST_LOCKS_H

#include <stdint.h>

struct lk_msg {
    uint8_t kind;
    uint64_t stamp;
    long count;
    void *buf;
    double ratio;
    struct { uint16_t lo; long long hi; } span;
    union { uint32_t u32; float f; };
    unsigned int flags : 5;
    int16_t tail[3];
};

typedef struct { char c; int32_t v; } lk_pair;

#endif
