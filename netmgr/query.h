/*
 * query.h -- the control requests that only read: status (answered from
 * tunworker's counters, or from the cache when it is slow) and logs
 * (the parent's log file, in request order).
 */
#ifndef VPND_QUERY_H
#define VPND_QUERY_H

#include <stddef.h>

struct ctl_conn;
struct imsg;
struct imsgev;
struct json_object;
struct vpnd_env;

void	 query_init(const struct vpnd_env *, struct imsgev *parent,
	    struct imsgev *tun);
void	 query_set_device_id(const char *);

void	 query_status(struct ctl_conn *, struct json_object *req);
void	 query_logs(struct ctl_conn *, struct json_object *req, int clean);

/*
 * Fresh counters for another reader (the UAPI's get): asks tunworker
 * unless a request is in flight; the hook runs once they are in (or the
 * cache is all there is), after the waiting status requests are answered.
 */
struct imsg_wg_stats;
void	 query_refresh(void);
void	 query_set_stats_hook(void (*)(void));
void	 query_stats(const struct imsg_wg_stats **, size_t *);

/* tunworker's counters: one IMSG_WG_STATS per peer, then the end. */
void	 query_on_stats(struct imsg *);
void	 query_on_stats_end(void);
/* The counters are stale once tunworker dropped its configuration. */
void	 query_stats_forget(void);

/* The parent's log file: data in pieces, then the end. */
void	 query_on_logs_data(struct imsg *);
void	 query_on_logs_end(void);

#endif /* VPND_QUERY_H */
