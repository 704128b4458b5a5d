enum mem_type {
	MEM_RAM = 1,
	MEM_RESERVED = 2
};
