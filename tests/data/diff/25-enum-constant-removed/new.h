enum hvmop {
	HVMOP_set_param = 0,
	HVMOP_get_param = 1
};
