enum xs_type {
	XS_DEBUG,
	XS_DIRECTORY
};
