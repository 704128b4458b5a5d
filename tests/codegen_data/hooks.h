/* Test header: a union whose members translate differently (a hook), a pointer to a record
 * that needs translation, size_t. */
#ifndef CODEGEN_TEST_HOOKS_H
#define CODEGEN_TEST_HOOKS_H

#include <stddef.h>
#include <stdint.h>

union cg_diverge {
    void *p;
    uint64_t q;
};

struct cg_req {
    uint32_t kind;
    union cg_diverge v;
    size_t len;
    struct cg_req *next;
    int8_t small[3];
};

#endif
