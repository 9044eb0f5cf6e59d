/*
 * output.h -- vpnctl's human-readable output of daemon messages.
 *
 * Every function takes the message as parsed JSON and the stream, and the
 * current time where something is shown as "ago", so golden-file tests
 * are deterministic.
 */
#ifndef VPNCTL_OUTPUT_H
#define VPNCTL_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct json_object;

/* The status block (wg(8)-like); works for base-protocol daemons too. */
void	 output_status(FILE *, struct json_object *, time_t now);
/* The logs reply with '|' turned back into newlines. */
void	 output_logs(FILE *, struct json_object *);
/* "vpnctl: status: bad-json: message" style, for an error reply. */
void	 output_error(FILE *, struct json_object *);
/* A signal or state line, as monitor prints it. */
void	 output_event(FILE *, struct json_object *);
void	 output_version(FILE *, struct json_object *);

/* "1.21 MiB", "512 B". */
const char *output_bytes(uint64_t, char *, size_t);
/* Daemon text with every terminal control replaced by '?'. */
const char *output_text(const char *);
/* "1 hour, 2 minutes, 3 seconds" (no "ago"); "0 seconds" for 0. */
const char *output_duration(int64_t, char *, size_t);

#endif /* VPNCTL_OUTPUT_H */
