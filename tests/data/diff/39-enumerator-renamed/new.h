enum xs_type {
	XS_CONTROL,
	XS_DIRECTORY
};
