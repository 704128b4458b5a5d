enum vcpu_state {
	RUNSTATE_running,
	RUNSTATE_runnable,
	RUNSTATE_blocked,
	RUNSTATE_offline
};
