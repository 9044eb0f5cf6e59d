/*
 * appid.c -- vpnDisabledApps: application IDs and scope names.
 */
#include <stdio.h>
#include <string.h>

#include "appid.h"

static int	 alnum(int);

static int
alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
appid_parse(const char *in, char *id, size_t idlen)
{
	const char	*b;
	size_t		 n, i;

	if (in == NULL || in[0] == '\0' || strlen(in) > 4096)
		return -1;
	if (in[0] == '/') {
		if (strstr(in, "/../") != NULL || strstr(in, "/./") != NULL)
			return -1;
		b = strrchr(in, '/') + 1;
	} else if (strchr(in, '/') != NULL)
		return -1;
	else
		b = in;
	n = strlen(b);
	if (n > 8 && strcmp(b + n - 8, ".desktop") == 0)
		n -= 8;
	if (n == 0 || n > APPID_MAX || n >= idlen || b[0] == '.' ||
	    b[0] == '-')
		return -1;
	for (i = 0; i < n; i++)
		if (!alnum((unsigned char)b[i]) && b[i] != '.' &&
		    b[i] != '_' && b[i] != '-')
			return -1;
	memcpy(id, b, n);
	id[n] = '\0';
	return 0;
}

int
appid_escape(const char *id, char *out, size_t outlen)
{
	size_t	i, o = 0;

	for (i = 0; id[i] != '\0'; i++) {
		if (id[i] == '-' || (i == 0 && id[i] == '.')) {
			if (o + 4 >= outlen)
				return -1;
			snprintf(out + o, outlen - o, "\\x%02x",
			    (unsigned char)id[i]);
			o += 4;
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = id[i];
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

int
appid_name_ok(const char *name)
{
	size_t	n = strlen(name), i;

	if (n == 0 || n > 255 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!alnum((unsigned char)name[i]) &&
		    strchr(":_.@-\\", name[i]) == NULL)
			return 0;
	return 1;
}

int
appid_scope_match(const char *name, const char *esc)
{
	static const char *const pfx[] = {
		"app-", "app-gnome-", "app-flatpak-",
	};
	size_t	n, el, p, i, j;

	if (!appid_name_ok(name) || (el = strlen(esc)) == 0)
		return 0;
	n = strlen(name);
	if (n < 6 || strcmp(name + n - 6, ".scope") != 0)
		return 0;
	n -= 6;
	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		p = strlen(pfx[i]);
		/* prefix, the ID, '-', at least one character */
		if (n < p + el + 2 || strncmp(name, pfx[i], p) != 0 ||
		    strncmp(name + p, esc, el) != 0 || name[p + el] != '-')
			continue;
		for (j = p + el + 1; j < n; j++)
			if (!alnum((unsigned char)name[j]))
				break;
		if (j == n)
			return 1;
	}
	return 0;
}
