/* Shapes for the marshal tests: bitfields, nesting, arrays, unions, big and negative
 * values, floats, pointers, enums; laid out by gcc on each target and by abiscope. */
#ifndef ABISCOPE_TEST_MARSHAL_SHAPES_H
#define ABISCOPE_TEST_MARSHAL_SHAPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

enum mode { MODE_OFF, MODE_ON = 7, MODE_NEG = -100 };
enum big_flag { FLAG_HIGH = 0x80000000u };

struct point { int16_t x; int32_t y; };

struct bits {
    unsigned a : 3;
    signed b : 5;
    unsigned c : 12;     /* crosses bytes */
    bool flag : 1;
    enum mode m : 8;
    unsigned long long wide : 40;
    signed long long swide : 23;
    uint8_t tail;
};

struct nested {
    uint8_t tag;
    struct point p;
    struct point path[3];
    struct { uint16_t lo, hi; } range;
    int32_t grid[2][3];
    signed char name[5];
};

union word {
    uint32_t u;
    int16_t halves[2];
    uint8_t raw[4];
};

struct with_unions {
    uint8_t kind;
    union word w;
    union { uint64_t q; void *ptr; };
    struct { uint16_t a; union { uint8_t b; int32_t c; }; };
    union word ws[2];
};

struct numbers {
    int8_t s8; uint8_t u8;
    int16_t s16; uint16_t u16;
    int32_t s32; uint32_t u32;
    int64_t s64; uint64_t u64;
    long l; unsigned long ul;
    size_t sz; intptr_t ip;
    float f; double d; long double ld;
    bool yes;
    enum mode mode; enum big_flag bigflag;
    void *ptr; const char *str; void (*fn)(void);
};

struct __attribute__((packed)) packed_hdr {
    uint8_t type;
    uint32_t len;
    uint16_t flags : 9, pri : 7;
    uint64_t id;
};

struct aligned_pair {
    uint8_t c;
    uint64_t v __attribute__((aligned(16)));
    struct bits b;
};

#endif
