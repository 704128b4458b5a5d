#include <linux/types.h>
struct pci_dev_info {
	__u8 bus;
	__u32 devfn;
};
