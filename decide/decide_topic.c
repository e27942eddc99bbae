/*
 * decide_topic.c - which subscription a topic came in on: THE MQTT filter
 * matcher, and the format lookup over the configured subscriptions.
 *
 * The matcher follows MQTT 3.1.1 section 4.7 and agrees with libmosquitto's
 * mosquitto_topic_matches_sub() (which the daemon used before), so that the
 * broker's routing, the daemon and a replay pick the same decoder: invalid
 * filters and topics holding a wildcard match nothing, '$' topics are not
 * matched by a leading wildcard. One pass over both strings, no copy; the
 * filter is validated as it is walked (a filter can only match once all of
 * it has been read).
 */
#include <stdbool.h>
#include <stddef.h>

#include "decide/decide.h"

/*
 * The bytes that end a level or are wildcards ('\0', '#', '+', '/') are
 * all below '0', so one compare lets the common bytes (letters, digits,
 * UTF-8) through the loops below.
 */
#define SPECIAL(c) ((unsigned char)(c) <= '/')

/* Skip the rest of a topic level (or, with `all`, of the topic): returns
 * the '/' or '\0' reached, or NULL at a wildcard (not a topic name). */
static const char *
skip(const char *t, bool all)
{
	for (;; t++) {
		if (!SPECIAL(*t))
			continue;
		if (*t == '+' || *t == '#')
			return NULL;
		if (*t == '\0' || (*t == '/' && !all))
			return t;
	}
}

bool
decide_topic_matches(const char *filter, const char *topic)
{
	const char *f = filter, *t = topic;

	if (!f || !t || !*f || !*t)
		return false;
	if (*t == '$' && (*f == '+' || *f == '#'))
		return false;
	for (;;) {
		/* f and t are each at the start of a level. */
		if (f[0] == '#')
			return f[1] == '\0' && skip(t, true);
		if (f[0] == '+' && (f[1] == '/' || f[1] == '\0')) {
			t = skip(t, false);
			if (!t)
				return false;
			f++;
		} else {
			/* A literal level: byte for byte. A wildcard in it
			 * makes the filter invalid; one in the topic never
			 * equals a valid filter's byte. */
			for (;; f++, t++) {
				if (*f != *t) {
					if (*f != '\0' && *f != '/')
						return false;
					if (*t != '\0' && *t != '/')
						return false;
					break;
				}
				if (!SPECIAL(*f))
					continue;
				if (*f == '+' || *f == '#')
					return false;
				if (*f == '\0' || *f == '/')
					break;
			}
		}
		if (*f == '\0')
			return *t == '\0';
		if (*t == '\0')         /* "a/#" matches "a" */
			return f[1] == '#' && f[2] == '\0';
		f++;
		t++;
	}
}

enum ing_format
decide_format(const struct decide_sub *subs, size_t n, const char *topic)
{
	size_t i;

	if (!topic)
		return ING_FORMAT_AUTO;
	for (i = 0; i < n; i++)
		if (decide_topic_matches(subs[i].filter, topic))
			return subs[i].format;
	return ING_FORMAT_AUTO;
}
