/*
 * lockdown.c -- the lockdown setting's words: what the setting file, the
 * Lockdown key of a configuration file and vpnctl say.
 */
#include <string.h>

#include "lockdown.h"

static const struct {
	const char	*word;
	bool		 on, allow_lan;
} lockdown_words[] = {
	{ "off",		false,	false },
	{ "on",			true,	false },
	{ "on allow-lan",	true,	true },
};

int
lockdown_parse_word(const char *s, struct lockdown *ld)
{
	size_t	 i;

	for (i = 0; i < sizeof(lockdown_words) / sizeof(lockdown_words[0]);
	    i++)
		if (strcmp(s, lockdown_words[i].word) == 0) {
			ld->on = lockdown_words[i].on;
			ld->allow_lan = lockdown_words[i].allow_lan;
			return 0;
		}
	return -1;
}

int
lockdown_parse_file(const char *buf, size_t len, struct lockdown *ld)
{
	char	 word[LOCKDOWN_FILE_MAX];

	if (buf == NULL || len < 2 || len > sizeof(word) ||
	    buf[len - 1] != '\n' || memchr(buf, '\0', len) != NULL ||
	    memchr(buf, '\n', len - 1) != NULL)
		return -1;
	memcpy(word, buf, len - 1);
	word[len - 1] = '\0';
	return lockdown_parse_word(word, ld);
}

const char *
lockdown_word(const struct lockdown *ld)
{
	if (!ld->on)
		return "off";
	return ld->allow_lan ? "on allow-lan" : "on";
}
