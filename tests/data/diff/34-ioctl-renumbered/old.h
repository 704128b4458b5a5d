#include <linux/types.h>
#include <linux/ioctl.h>
#define EVTCHN_BIND _IO('E', 1)
#define EVTCHN_RESET _IO('E', 5)
