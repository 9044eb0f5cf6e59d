/*
 * lockctl.h -- the control socket's lockdown requests (lockdown,
 * lockdownStatus), served from what the parent says the setting is.
 */
#ifndef VPND_LOCKCTL_H
#define VPND_LOCKCTL_H

struct ctl_conn;
struct imsg;
struct imsgev;
struct json_object;

void	 ldctl_init(struct imsgev *parent);
void	 ldctl_request(struct ctl_conn *, struct json_object *req);
void	 ldctl_status(struct ctl_conn *, struct json_object *req);
bool	 ldctl_known(bool *on, bool *lan);	/* false: not yet */
void	 ldctl_on_state(struct imsg *);	/* IMSG_LOCKDOWN_STATE */

#endif /* VPND_LOCKCTL_H */
