enum io_op {
	IO_NOP,
	IO_READ,
	IO_OP_NUM
};
