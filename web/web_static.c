/*
 * web_static.c - the board's files: GET / is [web] assets' index.html,
 * GET /PATH a file under assets, GET /vendor/leaflet/PATH a file of
 * Debian's libjs-leaflet and libjs-leaflet.markercluster
 * (/usr/share/javascript/leaflet, both packages install there). Anyone
 * may fetch them: the page asks to log in.
 *
 * A path is checked before anything is opened (web_parse_static_path: no
 * "..", no hidden files, no NUL or backslash, percent escapes decoded
 * first), then opened without following a symbolic link in its last
 * part, and must be a regular file. The answer carries the
 * Content-Security-Policy (no inline script) and nosniff.
 */
#include "web/web-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#define VENDOR_PREFIX "/vendor/leaflet/"

void
web_static_serve(struct web_call *c, const char *path)
{
	char rel[WEB_PATH_MAX], full[2 * WEB_PATH_MAX + 80];
	const char *dir = c->w->assets;
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct stat st;
	int fd;

	if (c->method != EVHTTP_REQ_GET && c->method != EVHTTP_REQ_HEAD) {
		web_reply_error(c, 405, "only GET here");
		return;
	}
	if (!strncmp(path, VENDOR_PREFIX, sizeof(VENDOR_PREFIX) - 1)) {
		dir = c->w->vendor_dir;
		path += sizeof(VENDOR_PREFIX) - 2;      /* keep the '/' */
	}
	if (web_parse_static_path(path, rel, sizeof(rel)) != 0) {
		web_reply_error(c, 404, "no such file");
		return;
	}
	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		web_reply_error(c, 404, "no such file");
		return;
	}
	if (evbuffer_add_file(c->out, fd, 0, st.st_size) != 0) {    /* takes fd */
		web_reply_error(c, 500, "cannot read the file");
		return;
	}
	evhttp_add_header(h, "Cache-Control", "no-cache");
	web_reply(c, 200, web_content_type(rel));
}
