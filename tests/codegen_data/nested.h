/* Test header for abiscope's generated translation code: nesting, arrays, pointers, unions,
 * bitfields, enums, long and size_t, all of which differ between x86_64 and i386. */
#ifndef CODEGEN_TEST_NESTED_H
#define CODEGEN_TEST_NESTED_H

#include <stddef.h>
#include <stdint.h>

enum cg_color { CG_RED, CG_GREEN = 7, CG_BLUE = -3 };

struct cg_point {
    long x;
    int32_t y;
};

struct cg_inner {
    uint64_t stamp;
    unsigned long count;
    void *ptr;
};

typedef struct { uint32_t *p; } cg_handle_u32;

union cg_same { uint64_t u; int64_t s; double d; };

struct cg_outer {
    char tag;
    struct cg_inner in;
    struct cg_point pts[3];
    long matrix[2][3];
    cg_handle_u32 h;
    enum cg_color c;
    _Bool flag;
    unsigned int a : 3, b : 5;
    signed int neg : 4;
    struct { short s; long l; } un;
    union { int32_t i; uint32_t u; };
    double d;
    float f;
    uint8_t bytes[5];
    union cg_same same;
    int16_t tail;
};

struct cg_plain {
    uint32_t a;
    uint16_t b;
};

#endif
