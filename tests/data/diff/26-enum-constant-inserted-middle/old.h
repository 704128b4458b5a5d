enum vcpu_state {
	RUNSTATE_running,
	RUNSTATE_blocked,
	RUNSTATE_offline
};
