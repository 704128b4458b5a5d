#include <linux/types.h>
typedef unsigned int domid_old_t;
typedef unsigned int domid_t;
struct dom_ref {
	domid_old_t dom;
};
