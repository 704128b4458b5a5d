/* The walk's hot loops in C: a record's fields and a cursor's children of given kinds,
 * read off libclang in one foreign call each instead of several per field or child.
 *
 * Not a Python module: abiscope.frontend.facts loads it with ctypes and hands it the
 * addresses of the libclang functions it calls (abiscope_facts_init), so it links against
 * nothing and declares only the few libclang types it passes by value, as clang-c/Index.h
 * defines them (stable since clang 3). What it reads, and how abiscope reads it back, is
 * documented in facts.py; the pure-Python reading there gives the same facts.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct { int kind; int xdata; const void *data[3]; } CXCursor;
typedef struct { int kind; void *data[2]; } CXType;
typedef struct { const void *ptr_data[2]; unsigned int_data; } CXSourceLocation;
typedef struct { const void *data; unsigned private_flags; } CXString;

typedef int (*CXCursorVisitor)(CXCursor, CXCursor, void *);
typedef int (*CXFieldVisitor)(CXCursor, void *);

static struct {
    unsigned (*visit_children)(CXCursor, CXCursorVisitor, void *);
    unsigned (*visit_fields)(CXType, CXFieldVisitor, void *);
    CXType (*cursor_type)(CXCursor);
    long long (*offset_of_field)(CXCursor);
    int (*bit_width)(CXCursor);
    unsigned (*has_attrs)(CXCursor);
    CXCursor (*type_declaration)(CXType);
    unsigned (*is_anonymous_record_decl)(CXCursor);
    CXSourceLocation (*cursor_location)(CXCursor);
    void (*expansion)(CXSourceLocation, void **, unsigned *, unsigned *, unsigned *);
    CXString (*cursor_spelling)(CXCursor);
    const char *(*c_string)(CXString);
    void (*dispose_string)(CXString);
    CXString (*type_spelling)(CXType);
    CXType (*canonical_type)(CXType);
    unsigned (*is_definition)(CXCursor);
    long long (*enum_value)(CXCursor);
    unsigned long long (*enum_unsigned_value)(CXCursor);
} lib;

#define FUNCTIONS 18
#define VERSION 1 /* of what the functions below take and write: facts.py checks it */

/* The addresses of the functions above, in that order, for this VERSION. */
int abiscope_facts_init(int version, void *const *functions, int count)
{
    if (version != VERSION || count != FUNCTIONS)
        return -1;
    memcpy(&lib, functions, sizeof lib);
    return 0;
}

/* Spellings written one after the other, each NUL-terminated, into room for capacity
 * bytes; length counts them all, written or not (the caller asks again with room for all
 * when it is more than capacity). */
typedef struct {
    char *text;
    size_t capacity, length;
} Names;

/* A string of libclang's into text (room for capacity bytes, NUL-terminated when there is
 * room); returns its length without the NUL (the caller asks again when that is not less
 * than capacity). */
static size_t copy_string(CXString string, char *text, size_t capacity)
{
    const char *data = lib.c_string(string);
    size_t length = data != NULL ? strlen(data) : 0;
    if (length < capacity)
        memcpy(text, data != NULL ? data : "", length + 1);
    lib.dispose_string(string);
    return length;
}

/* Adds a string of libclang's to names. */
static void add_name(Names *names, CXString string)
{
    size_t used = names->length;
    size_t room = used < names->capacity ? names->capacity - used : 0;
    names->length += copy_string(string, room ? names->text + used : NULL, room) + 1;
}

/* Whether a cursor kind is marked in wanted (one byte per kind below count). */
static int is_wanted(const unsigned char *wanted, size_t count, int kind)
{
    return kind >= 0 && (size_t)kind < count && wanted[kind];
}

/* One field, 16 words: its cursor and its type as libclang's structs (bytes 0-55, for the
 * bindings to rebuild when the walk needs them), then plain integers. */
typedef struct {
    CXCursor cursor;       /* words 0-3 */
    CXType type;           /* words 4-6 */
    int64_t type_kind;     /* 7 */
    int64_t type_data[2];  /* 8, 9: with type_kind, the type's identity */
    int64_t offset_bits;   /* 10: clang_Cursor_getOffsetOfField */
    int64_t bit_width;     /* 11: -1 when not a bitfield */
    int64_t flags;         /* 12: 1 has attributes, 2 its type is an anonymous record */
    int64_t file;          /* 13: expansion location: file handle (0 for none), */
    int64_t line;          /* 14: line */
    int64_t column;        /* 15: and column */
} Field;

typedef struct {
    Field *out;
    size_t capacity, count;
    Names names;           /* each field's spelling */
} Fields;

static int one_field(CXCursor cursor, void *data)
{
    Fields *fields = data;
    size_t i = fields->count++;
    add_name(&fields->names, lib.cursor_spelling(cursor));
    if (i >= fields->capacity)
        return 1; /* counted: the caller asks again with room for all */
    Field *f = &fields->out[i];
    memset(f, 0, sizeof *f);
    f->cursor = cursor;
    f->type = lib.cursor_type(cursor);
    f->type_kind = f->type.kind;
    f->type_data[0] = (int64_t)(intptr_t)f->type.data[0];
    f->type_data[1] = (int64_t)(intptr_t)f->type.data[1];
    f->offset_bits = lib.offset_of_field(cursor);
    f->bit_width = lib.bit_width(cursor);
    f->flags = (lib.has_attrs(cursor) ? 1 : 0)
        | (lib.is_anonymous_record_decl(lib.type_declaration(f->type)) ? 2 : 0);
    void *file = NULL;
    unsigned line = 0, column = 0;
    lib.expansion(lib.cursor_location(cursor), &file, &line, &column, NULL);
    f->file = (int64_t)(intptr_t)file;
    f->line = line;
    f->column = column;
    return 1; /* CXVisit_Continue */
}

/* The fields of a record type, in order, into out (room for capacity) and their
 * spellings into names (room for names_capacity bytes). Returns how many fields there are
 * and sets *names_length to the bytes their spellings take: when either is more than the
 * room given, nothing past the room is written, and the caller asks again. */
size_t abiscope_fields(CXType record, Field *out, size_t capacity, char *names,
                       size_t names_capacity, size_t *names_length)
{
    Fields fields = {out, capacity, 0, {names, names_capacity, 0}};
    lib.visit_fields(record, one_field, &fields);
    *names_length = fields.names.length;
    return fields.count;
}

typedef struct {
    const unsigned char *wanted; /* one byte per cursor kind below wanted_count */
    size_t wanted_count;
    CXCursor *out;
    size_t capacity, count;
} Children;

static int one_child(CXCursor cursor, CXCursor parent, void *data)
{
    (void)parent;
    Children *children = data;
    if (is_wanted(children->wanted, children->wanted_count, cursor.kind)) {
        if (children->count < children->capacity)
            children->out[children->count] = cursor;
        children->count++;
    }
    return 1; /* CXChildVisit_Continue */
}

/* The children of parent whose kind is marked in wanted, in order, into out; returns how
 * many there are (the caller asks again when that is more than capacity). */
size_t abiscope_children(CXCursor parent, const unsigned char *wanted, size_t wanted_count,
                         CXCursor *out, size_t capacity)
{
    Children children = {wanted, wanted_count, out, capacity, 0};
    lib.visit_children(parent, one_child, &children);
    return children.count;
}

/* clang_getTypeSpelling. */
size_t abiscope_type_spelling(CXType type, char *text, size_t capacity)
{
    return copy_string(lib.type_spelling(type), text, capacity);
}

static CXString canonical_spelling(CXCursor cursor)
{
    return lib.type_spelling(lib.canonical_type(lib.cursor_type(cursor)));
}

/* The spelling of a declaration's canonical type: a record's or enum's name. */
size_t abiscope_canonical_spelling(CXCursor cursor, char *text, size_t capacity)
{
    return copy_string(canonical_spelling(cursor), text, capacity);
}

/* The constants of an enum (its ENUM_CONSTANT_DECL children), in order: three words each
 * into values (the kind of the constant's type, its value read as signed and as unsigned)
 * and its spelling into names, NUL-terminated, one after the other. Returns how many there
 * are and sets *names_length; as abiscope_fields when either is more than the room. */
typedef struct {
    int64_t *values;
    size_t capacity, count;
    Names names;
} Constants;

#define CXCursor_EnumConstantDecl 7

static int one_constant(CXCursor cursor, CXCursor parent, void *data)
{
    (void)parent;
    Constants *constants = data;
    if (cursor.kind != CXCursor_EnumConstantDecl)
        return 1; /* CXChildVisit_Continue */
    size_t i = constants->count++;
    add_name(&constants->names, lib.cursor_spelling(cursor));
    if (i < constants->capacity) {
        int64_t *value = constants->values + 3 * i;
        value[0] = lib.cursor_type(cursor).kind;
        value[1] = lib.enum_value(cursor);
        value[2] = (int64_t)lib.enum_unsigned_value(cursor);
    }
    return 1;
}

size_t abiscope_enum_constants(CXCursor cursor, int64_t *values, size_t capacity,
                               char *names, size_t names_capacity, size_t *names_length)
{
    Constants constants = {values, capacity, 0, {names, names_capacity, 0}};
    lib.visit_children(cursor, one_constant, &constants);
    *names_length = constants.names.length;
    return constants.count;
}

/* The children of parent whose kind is marked in wanted and, for a struct, union or enum,
 * that are definitions: each one's cursor into out, and the spelling of its canonical type
 * (a record's or enum's name; "" for other kinds) into names, NUL-terminated, one after
 * the other. Returns how many there are and sets *names_length; as abiscope_fields when
 * either is more than the room. */
typedef struct {
    const unsigned char *wanted;
    size_t wanted_count;
    CXCursor *out;
    size_t capacity, count;
    Names names;
} Definitions;

enum { CXCursor_StructDecl = 2, CXCursor_UnionDecl = 3, CXCursor_EnumDecl = 5 };

static int one_definition(CXCursor cursor, CXCursor parent, void *data)
{
    (void)parent;
    Definitions *found = data;
    if (!is_wanted(found->wanted, found->wanted_count, cursor.kind))
        return 1; /* CXChildVisit_Continue */
    int tagged = cursor.kind == CXCursor_StructDecl || cursor.kind == CXCursor_UnionDecl
        || cursor.kind == CXCursor_EnumDecl;
    if (tagged && !lib.is_definition(cursor))
        return 1;
    size_t i = found->count++;
    if (i < found->capacity)
        found->out[i] = cursor;
    if (tagged)
        add_name(&found->names, canonical_spelling(cursor));
    else {
        if (found->names.length < found->names.capacity)
            found->names.text[found->names.length] = '\0';
        found->names.length += 1;
    }
    return 1;
}

size_t abiscope_definitions(CXCursor parent, const unsigned char *wanted, size_t wanted_count,
                            CXCursor *out, size_t capacity, char *names,
                            size_t names_capacity, size_t *names_length)
{
    Definitions found = {wanted, wanted_count, out, capacity, 0, {names, names_capacity, 0}};
    lib.visit_children(parent, one_definition, &found);
    *names_length = found.names.length;
    return found.count;
}
