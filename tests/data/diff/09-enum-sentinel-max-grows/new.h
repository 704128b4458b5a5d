enum nft_attr {
	NFTA_UNSPEC,
	NFTA_NAME,
	NFTA_FLAGS,
	__NFTA_MAX
};
