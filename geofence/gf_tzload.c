/*
 * gf_tzload.c - THE ONE I/O EXCEPTION in geofence/: read a TZif file for
 * callers (daemon, hazgate-ctl) and hand the bytes to the pure
 * gf_tz_parse. Looks in $TZDIR when set, else /usr/share/zoneinfo.
 * Nothing else in geofence/ touches files, the environment or the clock.
 */
#include "geofence/geofence-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= GF_TZ_NAME_MAX || name[0] == '/' ||
	    strstr(name, "..") != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '/' || c == '_' ||
		      c == '-' || c == '+' || c == '.'))
			return false;
	}
	return true;
}

int
gf_tz_load(const char *name, gf_tz **out)
{
	int rc = GF_EIO;
	FILE *f = NULL;
	uint8_t *buf = NULL;
	char path[512];
	if (name == NULL || out == NULL)
		return GF_EINVAL;
	*out = NULL;
	if (!name_ok(name))
		return GF_EINVAL;
	const char *dir = getenv("TZDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return GF_EINVAL;
	f = fopen(path, "rb");
	if (f == NULL) {
		if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
			return gf_tz_from_posix("UTC0", out);
		return GF_EIO;
	}
	size_t cap = 1 << 16, len = 0;
	buf = malloc(cap);
	if (buf == NULL) {
		rc = GF_ENOMEM;
		goto done;
	}
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			if (cap >= (1u << 22)) /* 4 MiB: no real TZif is that big */
				goto done;
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				rc = GF_ENOMEM;
				goto done;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f))
		goto done;
	rc = gf_tz_parse(buf, len, out);
done:
	free(buf);
	fclose(f);
	return rc;
}
