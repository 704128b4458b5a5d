#include <linux/types.h>
struct timeval_abi {
	long tv_sec;
	long tv_usec;
};
