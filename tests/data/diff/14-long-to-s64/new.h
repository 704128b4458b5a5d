#include <linux/types.h>
struct timeval_abi {
	__s64 tv_sec;
	__s64 tv_usec;
};
