enum nft_attr {
	NFTA_UNSPEC,
	NFTA_NAME,
	__NFTA_MAX
};
