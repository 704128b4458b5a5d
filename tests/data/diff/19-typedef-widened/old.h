typedef unsigned int evtchn_port_t;
struct evtchn_send {
	evtchn_port_t port;
	evtchn_port_t remote;
};
