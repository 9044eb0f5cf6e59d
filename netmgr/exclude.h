/*
 * exclude.h -- the exclude request: the parent moves the requesting
 * client's own process out of the tunnel (split tunnelling).
 */
#ifndef VPND_EXCLUDE_H
#define VPND_EXCLUDE_H

struct ctl_conn;
struct imsg;
struct imsgev;
struct json_object;

void	 exclude_init(struct imsgev *parent);
void	 exclude_request(struct ctl_conn *, struct json_object *req);
void	 exclude_on_result(struct imsg *);

#endif /* VPND_EXCLUDE_H */
