struct flags_word {
	unsigned int mode : 4;
	unsigned int enabled : 1;
};
