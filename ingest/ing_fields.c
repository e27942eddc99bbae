/*
 * ing_fields.c - the field-table walker every decoder reads its members
 * with (ing_fields_read), and the checks that follow a walk
 * (ing_walk_finish).
 *
 * A table (ingest-internal.h) names each JSON member, how to read it and
 * where it goes in struct ing_fix (gpsd's json_attr_t habit). One pass
 * over the object's members finds each row's value, matching names by
 * their first two bytes then whole; then the rows are applied in table order, whatever
 * the order of the members in the message, so the first problem reported
 * is stable. A member of the table sent twice is not_json (ambiguous, and
 * libgps would read the last); other members and their duplicates are
 * ignored. Numbers are cJSON doubles: an "integer" row takes any integral
 * value ("fix":3.0 reads as 3), a too large literal is infinite and fails
 * its range check, and digits beyond a double's 53 bits are rounded (seq
 * above 2^53). JSON null in an optional member reads as absent, in a
 * required member as missing. No allocation, no state.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/ingest-internal.h"

#include "common/hz_alarm.h"

static enum ing_reason
bad_type(struct ing_error *err, const struct ing_field *f, const char *want)
{
	return ing_err_set(err, ING_REASON_BAD_TYPE, f->name,
	                   "%s must be %s", f->name, want);
}

/* An integral number -> *out, saturating at the int64 range; false when
 * the member is not a number with an integral value. */
static bool
integral(const cJSON *v, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!isfinite(d)) {
		if (isnan(d))
			return false;
		*out = d > 0 ? INT64_MAX : INT64_MIN;
		return true;
	}
	if (d != floor(d))
		return false;
	if (d >= 9223372036854775807.0)
		*out = INT64_MAX;
	else if (d <= -9223372036854775808.0)
		*out = INT64_MIN;
	else
		*out = (int64_t)d;
	return true;
}

/* Epoch count in `unit` microseconds -> fix->time_us, saturating so that
 * out-of-range values read as too old / too far ahead, never overflow. */
static void
set_epoch(struct ing_fix *fix, int64_t v, int64_t unit)
{
	if (v > INT64_MAX / unit)
		fix->time_us = INT64_MAX;
	else if (v < INT64_MIN / unit)
		fix->time_us = INT64_MIN;
	else
		fix->time_us = v * unit;
}

enum ing_reason
ing_fields_read(const cJSON *obj, const struct ing_field *tab, size_t n,
                struct ing_fix *fix, struct ing_walk *walk,
                struct ing_error *err)
{
	char *base = (char *)fix;
	const cJSON *vals[ING_FIELDS_MAX] = { NULL };
	const cJSON *v;
	size_t i;

	/* One pass over the members, matching names by their first two
	 * bytes then whole (no strlen of each member's name: issue 15; a
	 * table's names are not empty, so k[1] is read only after a k[0]
	 * that is not the NUL); unknown members cost a few compares. */
	for (v = obj->child; v; v = v->next) {
		const char *k = v->string;
		for (i = 0; i < n; i++) {
			if (tab[i].name[0] != k[0] || tab[i].name[1] != k[1] ||
			    strcmp(tab[i].name, k) != 0)
				continue;
			if (vals[i])
				return ing_err_set(err, ING_REASON_NOT_JSON,
				                   tab[i].name,
				                   "not JSON: member %s twice",
				                   tab[i].name);
			vals[i] = v;
			break;
		}
	}

	for (i = 0; i < n; i++) {
		const struct ing_field *f = &tab[i];
		void *dst = base + f->offset;
		const char *s;
		size_t len;
		double d;

		v = vals[i];
		if (!v || cJSON_IsNull(v)) {
			if ((f->flags & ING_F_REQUIRED) && !walk->first_missing)
				walk->first_missing = f->name;
			continue;
		}
		switch ((enum ing_kind)f->kind) {
		case ING_K_REAL:
			if (!cJSON_IsNumber(v))
				return bad_type(err, f, "a number");
			d = v->valuedouble;
			memcpy(dst, &d, sizeof(d));
			break;
		case ING_K_SMALLINT: {
			int64_t x;
			int iv;
			if (!integral(v, &x))
				return bad_type(err, f, "an integer");
			/* Out-of-int values become -1: value_range. */
			iv = (x < -1000000 || x > 1000000) ? -1 : (int)x;
			memcpy(dst, &iv, sizeof(iv));
			break;
		}
		case ING_K_INT64: {
			int64_t x;
			if (!integral(v, &x))
				return bad_type(err, f, "an integer");
			memcpy(dst, &x, sizeof(x));
			break;
		}
		case ING_K_BOOL: {
			bool b;
			if (!cJSON_IsBool(v))
				return bad_type(err, f, "true or false");
			b = cJSON_IsTrue(v);
			memcpy(dst, &b, sizeof(b));
			break;
		}
		case ING_K_CARGO:
			if (!cJSON_IsString(v))
				return bad_type(err, f, "a string");
			len = strlen(v->valuestring);
			if (len == 0)
				continue;       /* "" = no cargo declared */
			if (len > ING_CARGO_MAX)
				return ing_err_set(err, ING_REASON_CARGO_FORMAT,
				                   f->name,
				                   "%s is %zu bytes, over %d",
				                   f->name, len, ING_CARGO_MAX);
			memcpy(dst, v->valuestring, len);
			((char *)dst)[len] = '\0';
			break;
		case ING_K_VEHICLE: {
			enum ing_reason r;
			if (!cJSON_IsString(v))
				return bad_type(err, f, "a string");
			r = ing_fix_set_vehicle(fix, v->valuestring,
			                        strlen(v->valuestring), err);
			if (r != ING_REASON_NONE)
				return r;
			break;
		}
		case ING_K_TIME_RFC3339:
			if (walk->seen & ING_SEEN_TIME)
				continue;
			if (!cJSON_IsString(v))
				return bad_type(err, f, "an RFC 3339 string");
			s = v->valuestring;
			len = strlen(s);
			if (ing_time_parse(s, len, &fix->time_us) != 0)
				return ing_err_set(err, ING_REASON_TIME_FORMAT,
				                   f->name,
				                   "%s is not an RFC 3339 time",
				                   f->name);
			break;
		case ING_K_TIME_MS:
		case ING_K_TIME_S: {
			int64_t x;
			if (walk->seen & ING_SEEN_TIME)
				continue;
			if (!integral(v, &x))
				return bad_type(err, f, "an integer");
			set_epoch(fix, x, f->kind == ING_K_TIME_MS ? 1000 : 1000000);
			break;
		}
		case ING_K_CHECK_NUMBER:
			if (!cJSON_IsNumber(v))
				return bad_type(err, f, "a number");
			break;
		case ING_K_CHECK_STRING:
			if (!cJSON_IsString(v))
				return bad_type(err, f, "a string");
			break;
		case ING_K_ALARMS: {
			uint32_t mask = 0;
			const cJSON *a;
			if (!cJSON_IsArray(v))
				return bad_type(err, f, "a list of alarm names");
			cJSON_ArrayForEach(a, v) {
				int b;
				if (!cJSON_IsString(a))
					return bad_type(err, f,
					                "a list of alarm names");
				/* Unknown names are ignored (ing_native.c). */
				b = hz_alarm_bit(a->valuestring,
				                 strlen(a->valuestring));
				if (b >= 0)
					mask |= 1u << b;
			}
			memcpy(dst, &mask, sizeof(mask));
			break;
		}
		}
		fix->present |= f->present;
		walk->seen |= f->seen;
	}
	return ING_REASON_NONE;
}

enum ing_reason
ing_walk_finish(const struct ing_fix *fix, const struct ing_walk *walk,
                const char *time_name, struct ing_error *err)
{
	if ((fix->present & ING_HAS_FIX) && (fix->fix == 0 || fix->fix == 1))
		return ing_fix_check(fix, 0, err);      /* reports no_fix */
	if (walk->first_missing)
		return ing_err_set(err, ING_REASON_MISSING_FIELD,
		                   walk->first_missing, "%s is missing",
		                   walk->first_missing);
	if (!(walk->seen & ING_SEEN_TIME))
		return ing_err_set(err, ING_REASON_MISSING_FIELD, time_name,
		                   "%s is missing", time_name);
	return ING_REASON_NONE;
}
