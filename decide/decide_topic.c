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

/* No wildcard in what is left of a topic name. */
static bool
plain(const char *t)
{
	for (; *t; t++)
		if (*t == '+' || *t == '#')
			return false;
	return true;
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
			return f[1] == '\0' && plain(t);
		if (f[0] == '+' && (f[1] == '/' || f[1] == '\0')) {
			for (; *t && *t != '/'; t++)
				if (*t == '+' || *t == '#')
					return false;
			f++;
		} else {
			/* A literal level; a wildcard inside it makes the
			 * filter invalid, one in the topic never equals a
			 * literal byte. */
			for (; *f && *f != '/'; f++, t++)
				if (*f == '+' || *f == '#' || *f != *t)
					return false;
			if (*t && *t != '/')
				return false;
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
