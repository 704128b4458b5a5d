/* Constructs of ABI headers (packed enums, complex and long double, zero-size and
 * flexible arrays, transparent unions, bit-field corner cases, pack with aligned records),
 * each compared with every Debian gcc by tests/test_differential_constructs.py. */
enum __attribute__((packed)) pe { PE_A, PE_B = 200 };
enum __attribute__((packed)) pe2 { PE2_A = -1, PE2_B = 300 };
struct e1 { char c; enum pe e; short s; };
struct e2 { char c; enum pe2 e; };
enum big { BIG_A = 0x100000000ULL };
struct e3 { char c; enum big e; };
struct e4 { char c; enum pe e : 3; enum pe f : 5; int g : 7; };
struct c1 { char c; _Complex double z; };
struct c2 { char c; _Complex float z; short s; };
struct c3 { char c; _Complex long double z; };
struct ld1 { char c; long double x; };
struct m1 { char c; int x __attribute__((mode(DI))); };
struct m2 { char c; int x __attribute__((mode(QI))); };
struct z0 { };
struct z1 { char c; struct z0 z; int i; };
struct z2 { int n; struct z0 arr[4]; char c; };
struct fl1 { short n; int data[]; };
struct __attribute__((packed)) fl2 { char c; int n; long long data[]; };
struct za1 { int n; char zero[0]; };
struct za2 { char c; long long zero[0]; };
union tu { int *i; long *l; } __attribute__((transparent_union));
struct t1 { char c; union tu u; };
struct b1 { _Bool a : 1; _Bool b : 1; char c; };
struct b2 { char c; unsigned long l : 31; };
struct b3 { char c; signed char s : 7; short t : 9; int u : 17; long long v : 35; };
struct b4 { unsigned a : 1; unsigned : 0; unsigned b : 1; };
struct b5 { char a : 2; char : 0; char b : 2; };
struct b6 { long long a : 1; char b; };
struct b7 { char c; int : 0; char d; };
struct b8 { char c; long long : 0; char d; };
union u1 { char c : 3; int i : 20; };
struct a1 { char c; int x __attribute__((aligned(16))); };
struct __attribute__((packed, aligned(4))) a2 { char c; int x; short s; };
struct a3 { char c; struct a2 a; };
#pragma pack(push, 1)
struct pp1 { char c; int x __attribute__((aligned(8))); };
struct pp2 { char c; double d; struct a2 a; };
#pragma pack(pop)
struct a4 { char c; _Alignas(16) char d; };
struct ptr1 { char c; void (*f)(void); void *p; };
