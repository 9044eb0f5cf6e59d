/*
 * t_conf_lockdown.c -- the lockdown setting's words: the setting file's
 * strict parser (one word and a newline, nothing else; anything else is
 * refused so that the parent fails closed), the words themselves, and
 * the Lockdown key of a configuration file.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lockdown.h"
#include "tap.h"

static const char *const bad_files[] = {
	"",
	"\n",
	"on",			/* no newline */
	"off",
	"on \n",
	" on\n",
	"On\n",
	"ON\n",
	"on\n\n",
	"on\noff\n",
	"yes\n",
	"1\n",
	"true\n",
	"on allow-lan \n",
	"on  allow-lan\n",
	"on\tallow-lan\n",
	"off allow-lan\n",
	"allow-lan\n",
	"on allow-lan\nx",
	"on\r\n",
	"of\n",
	"offf\n",
	"on allow-lanx\n",
};

static int
file(const char *s, struct lockdown *ld)
{
	return lockdown_parse_file(s, strlen(s), ld);
}

static int
conf_lockdown(const char *key, char *err, size_t errlen)
{
	struct tunnel_conf	 conf;
	char			 text[512];
	int			 rv;

	snprintf(text, sizeof(text), "[Interface]\n"
	    "PrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n"
	    "%s\n", key);
	if (wgconf_parse(text, strlen(text), "t.conf", &conf, err,
	    errlen) == -1)
		return -1;
	rv = conf.lockdown;
	conf_free(&conf);
	return rv;
}

int
main(void)
{
	struct lockdown	 ld;
	char		 err[256], big[LOCKDOWN_FILE_MAX + 8];
	size_t		 i;

	plan(23 + 2 + 14 + 7);

	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		ld.on = false;
		ld.allow_lan = true;
		ok(file(bad_files[i], &ld) == -1 && !ld.on && ld.allow_lan,
		    "bad file %zu (%zu bytes) refused, setting untouched", i,
		    strlen(bad_files[i]));
	}
	ok(lockdown_parse_file("on\0\n", 4, &ld) == -1, "a NUL refused");
	memset(big, 'o', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ok(lockdown_parse_file(big, sizeof(big), &ld) == -1,
	    "a file over %d bytes refused", LOCKDOWN_FILE_MAX);

	ok(file("off\n", &ld) == 0 && !ld.on && !ld.allow_lan, "off");
	ok(file("on\n", &ld) == 0 && ld.on && !ld.allow_lan, "on");
	ok(file("on allow-lan\n", &ld) == 0 && ld.on && ld.allow_lan,
	    "on allow-lan");
	ok(lockdown_parse_file(NULL, 0, &ld) == -1, "NULL refused");
	ok(lockdown_parse_word("on", &ld) == 0 && ld.on && !ld.allow_lan,
	    "word on");
	ok(lockdown_parse_word("on allow-lan", &ld) == 0 && ld.allow_lan,
	    "word on allow-lan");
	ok(lockdown_parse_word("off", &ld) == 0 && !ld.on, "word off");
	ok(lockdown_parse_word("on\n", &ld) == -1, "a word with a newline "
	    "refused");
	ok(lockdown_parse_word("", &ld) == -1, "an empty word refused");
	ld.on = true;
	ld.allow_lan = true;
	is_str(lockdown_word(&ld), "on allow-lan", "word for on + LAN");
	ld.allow_lan = false;
	is_str(lockdown_word(&ld), "on", "word for on");
	ld.on = false;
	ld.allow_lan = true;
	is_str(lockdown_word(&ld), "off", "off ignores allow_lan");
	ld.on = true;
	ld.allow_lan = true;
	ok(file("on allow-lan\n", &ld) == 0 &&
	    strcmp(lockdown_word(&ld), "on allow-lan") == 0, "round trip");
	ld.on = false;
	ok(file("off\n", &ld) == 0 && strcmp(lockdown_word(&ld), "off") == 0,
	    "round trip off");

	/* the configuration key */
	is_int(conf_lockdown("Lockdown = on", err, sizeof(err)),
	    LOCKDOWN_KEY_ON, "Lockdown = on");
	is_int(conf_lockdown("Lockdown = off", err, sizeof(err)),
	    LOCKDOWN_KEY_OFF, "Lockdown = off");
	is_int(conf_lockdown("Lockdown = on allow-lan  # LAN too", err,
	    sizeof(err)), LOCKDOWN_KEY_ON_LAN, "Lockdown = on allow-lan");
	is_int(conf_lockdown("ListenPort = 1", err, sizeof(err)), 0,
	    "no Lockdown key: 0");
	ok(conf_lockdown("Lockdown = yes", err, sizeof(err)) == -1 &&
	    strstr(err, "t.conf:3: bad Lockdown") != NULL,
	    "Lockdown = yes refused with its line: %s", err);
	ok(conf_lockdown("Lockdown =", err, sizeof(err)) == -1,
	    "an empty Lockdown refused");
	ok(conf_lockdown("Lockdown = off allow-lan", err, sizeof(err)) == -1,
	    "Lockdown = off allow-lan refused");
	return done_testing();
}
