struct flags_word {
	unsigned int mode : 3;
	unsigned int enabled : 1;
};
