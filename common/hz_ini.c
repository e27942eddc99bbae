/*
 * hz_ini.c - the INI option-table engine behind hz_ini.h.
 *
 * How it works: libinih calls the handler once per "key = value"; the
 * handler finds the option by section and key (or alias) and stores the
 * value through the same setter the defaults go through. libinih does not
 * pass line numbers in the Debian build (INI_HANDLER_LINENO 0), so the
 * text is read through a reader callback that counts lines: the handler
 * runs right after the reader returned the key's line. A key given twice
 * is found with one flag per option, allocated for the load.
 *
 * Limits: see hz_ini.h. The first error stops storing values; libinih
 * reads on to the end of the file.
 */
#include "common/hz_ini.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KIB 1024.0

/* ---- one value --------------------------------------------------------- */

static int
parse_integer(const struct hz_ini_opt *o, char *base, const char *value, const char **why)
{
	char *end;
	long long ll;

	errno = 0;
	ll = strtoll(value, &end, 10);
	if (errno || end == value || *end) {
		*why = "not an integer";
		return HZ_INI_EPARSE;
	}
	if ((double)ll < o->min || (double)ll > o->max) {
		*why = "out of range";
		return HZ_INI_EPARSE;
	}
	if (o->type == HZ_INI_INT)
		*(int *)base = (int)ll;
	else if (o->type == HZ_INI_UINT)
		*(unsigned *)base = (unsigned)ll;
	else
		*(int64_t *)base = (int64_t)ll;
	return HZ_INI_OK;
}

static int
parse_size(const struct hz_ini_opt *o, char *base, const char *value, const char **why)
{
	unsigned long long u;
	double mult = 1, d;
	char *end;

	*why = "not a size (digits and an optional k, M, G or T)";
	if (strchr(value, '-'))
		return HZ_INI_EPARSE;
	errno = 0;
	u = strtoull(value, &end, 10);
	if (errno || end == value)
		return HZ_INI_EPARSE;
	switch (*end) {
	case 'k': case 'K': mult = KIB; break;
	case 'm': case 'M': mult = KIB * KIB; break;
	case 'g': case 'G': mult = KIB * KIB * KIB; break;
	case 't': case 'T': mult = KIB * KIB * KIB * KIB; break;
	default: break;
	}
	if (mult > 1) {
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B')
		end++;
	if (*end)
		return HZ_INI_EPARSE;
	d = (double)u * mult;
	if (d < o->min || d > o->max) {
		*why = "out of range";
		return HZ_INI_EPARSE;
	}
	*(uint64_t *)base = (uint64_t)d;
	return HZ_INI_OK;
}

/* Store VALUE into the option. Returns HZ_INI_OK, or HZ_INI_EPARSE or
 * HZ_INI_ENOMEM with *why saying what is wrong. */
static int
opt_set(const struct hz_ini_opt *o, void *conf, const char *value, const char **why)
{
	char *base = (char *)conf + o->offset;
	char *end;
	double d;

	switch (o->type) {
	case HZ_INI_STR:
		if (o->size) {
			size_t n = strlen(value);

			if (n >= o->size) {
				*why = "value too long";
				return HZ_INI_EPARSE;
			}
			memcpy(base, value, n + 1);
		} else {
			char *dup = strdup(value);

			if (!dup) {
				*why = "out of memory";
				return HZ_INI_ENOMEM;
			}
			free(*(char **)base);
			*(char **)base = dup;
		}
		return HZ_INI_OK;
	case HZ_INI_INT:
	case HZ_INI_UINT:
	case HZ_INI_I64:
		return parse_integer(o, base, value, why);
	case HZ_INI_DBL:
		errno = 0;
		d = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(d)) {
			*why = "not a number";
			return HZ_INI_EPARSE;
		}
		if (d < o->min || d > o->max) {
			*why = "out of range";
			return HZ_INI_EPARSE;
		}
		*(double *)base = d;
		return HZ_INI_OK;
	case HZ_INI_SIZE:
		return parse_size(o, base, value, why);
	case HZ_INI_ENUM:
		for (size_t i = 0; o->names[i]; i++) {
			if (!strcasecmp(o->names[i], value)) {
				*(int *)base = o->values ? o->values[i] : (int)i;
				return HZ_INI_OK;
			}
		}
		*why = "not one of the allowed values";
		return HZ_INI_EPARSE;
	case HZ_INI_CUSTOM:
		*why = o->parse(conf, value);
		return *why ? HZ_INI_EPARSE : HZ_INI_OK;
	}
	*why = "bad option type";
	return HZ_INI_EPARSE;
}

/* ---- finding an option --------------------------------------------------- */

static const struct hz_ini_opt *
opt_find(const struct hz_ini_table *t, const char *section, const char *key, bool *section_known)
{
	*section_known = false;
	for (size_t i = 0; i < t->nopts; i++) {
		const struct hz_ini_opt *o = &t->opts[i];

		if (strcmp(o->section, section))
			continue;
		*section_known = true;
		if (!strcmp(o->key, key) || (o->alias && !strcmp(o->alias, key)))
			return o;
	}
	return NULL;
}

void
hz_ini_explain(const struct hz_ini_fault *f, char *buf, size_t len)
{
	switch (f->kind) {
	case HZ_INI_NO_SECTION:
		snprintf(buf, len, "key '%s' outside any [section]", f->key);
		return;
	case HZ_INI_UNKNOWN_SECTION:
		snprintf(buf, len, "unknown section [%s] (key '%s')", f->section, f->key);
		return;
	case HZ_INI_UNKNOWN_KEY:
		snprintf(buf, len, "unknown key '%s' in [%s]", f->key, f->section);
		return;
	case HZ_INI_TWICE:
		snprintf(buf, len, "[%s] %s given twice", f->section, f->key);
		return;
	case HZ_INI_BAD_VALUE:
		snprintf(buf, len, "[%s] %s = '%.200s': %s", f->section, f->key, f->value, f->why);
		return;
	}
	snprintf(buf, len, "bad configuration");
}

/*
 * Set one option; SEEN (may be NULL) flags the options given so far.
 * On error MSG (LEN bytes) holds the table's wording.
 */
static int
set_one(const struct hz_ini_table *t, void *conf, const char *section, const char *key,
        const char *value, bool *seen, char *msg, size_t len)
{
	struct hz_ini_fault f = { .section = section, .key = key, .value = value };
	bool known;
	int rc;

	f.opt = opt_find(t, section, key, &known);
	if (!*section)
		f.kind = HZ_INI_NO_SECTION;
	else if (!known)
		f.kind = HZ_INI_UNKNOWN_SECTION;
	else if (!f.opt)
		f.kind = HZ_INI_UNKNOWN_KEY;
	else if (seen && seen[f.opt - t->opts])
		f.kind = HZ_INI_TWICE;
	else
		goto store;
	rc = HZ_INI_EPARSE;
	goto fault;
store:
	if (seen)
		seen[f.opt - t->opts] = true;
	rc = opt_set(f.opt, conf, value, &f.why);
	if (rc == HZ_INI_OK)
		return HZ_INI_OK;
	if (rc == HZ_INI_ENOMEM) {
		snprintf(msg, len, "out of memory");
		return rc;
	}
	f.kind = HZ_INI_BAD_VALUE;
fault:
	(t->explain ? t->explain : hz_ini_explain)(&f, msg, len);
	return rc;
}

int
hz_ini_set(const struct hz_ini_table *t, void *conf, const char *section, const char *key,
           const char *value, char *err, size_t errlen)
{
	char msg[512];
	int rc = set_one(t, conf, section, key, value, NULL, msg, sizeof(msg));

	if (rc != HZ_INI_OK && err && errlen)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

int
hz_ini_defaults(const struct hz_ini_table *t, void *conf)
{
	for (size_t i = 0; i < t->nopts; i++) {
		const char *why;
		int rc = opt_set(&t->opts[i], conf, t->opts[i].def, &why);

		if (rc != HZ_INI_OK)
			return rc;
	}
	return HZ_INI_OK;
}

/* ---- reading a file ------------------------------------------------------ */

struct load_ctx {
	const struct hz_ini_table *t;
	void *conf;
	const char *name;       /* the file's name, for messages */
	FILE *fp;               /* the file, or NULL: */
	const char *text;       /* the string */
	int line;               /* the line the reader returned last */
	bool line_start;        /* the next read starts a line */
	bool *seen;             /* per option: given in this file (NULL: last wins) */
	int rc;                 /* the first error */
	int fail_line;
	char msg[512];
};

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *c = user;
	int rc;

	if (!key)       /* a section header alone (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (c->rc != HZ_INI_OK)
		return 0;
	rc = set_one(c->t, c->conf, section, key, value, c->seen, c->msg, sizeof(c->msg));
	if (rc == HZ_INI_OK)
		return 1;
	c->rc = rc;
	c->fail_line = c->line;
	return 0;
}

/* inih's reader: a line (or the first NUM - 1 bytes of a longer one) from
 * the file or the string, counting lines. */
static char *
reader(char *str, int num, void *stream)
{
	struct load_ctx *c = stream;
	char *r;
	size_t n;

	if (c->fp) {
		r = fgets(str, num, c->fp);
	} else {
		if (!*c->text)
			return NULL;
		n = 0;
		while (c->text[n] && c->text[n] != '\n' && n + 1 < (size_t)num - 1)
			n++;
		if (c->text[n] == '\n')
			n++;
		memcpy(str, c->text, n);
		str[n] = '\0';
		c->text += n;
		r = str;
	}
	if (!r)
		return NULL;
	if (c->line_start)
		c->line++;
	n = strlen(str);
	c->line_start = n > 0 && str[n - 1] == '\n';
	return r;
}

static int
load(struct load_ctx *c, char *err, size_t errlen)
{
	int rc;

	c->line_start = true;
	c->rc = HZ_INI_OK;
	if (!c->t->last_wins) {
		c->seen = calloc(c->t->nopts ? c->t->nopts : 1, sizeof(*c->seen));
		if (!c->seen) {
			if (err && errlen)
				snprintf(err, errlen, "%s: out of memory", c->name);
			return HZ_INI_ENOMEM;
		}
	}
	rc = ini_parse_stream(reader, c, handler, c);
	free(c->seen);
	c->seen = NULL;
	if (rc > 0 && (c->rc == HZ_INI_OK || rc < c->fail_line)) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%d: syntax error (want [section] or key = value)",
				 c->name, rc);
		return HZ_INI_EPARSE;
	}
	if (c->rc != HZ_INI_OK) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%d: %s", c->name, c->fail_line, c->msg);
		return c->rc;
	}
	if (rc == -2) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", c->name);
		return HZ_INI_ENOMEM;
	}
	if (rc < 0 || (c->fp && ferror(c->fp))) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read", c->name);
		return HZ_INI_EIO;
	}
	return HZ_INI_OK;
}

int
hz_ini_load(const struct hz_ini_table *t, void *conf, const char *path, char *err,
            size_t errlen)
{
	struct load_ctx c = { .t = t, .conf = conf, .name = path };
	int rc;

	c.fp = fopen(path, "r");
	if (!c.fp) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return HZ_INI_EIO;
	}
	rc = load(&c, err, errlen);
	fclose(c.fp);
	return rc;
}

int
hz_ini_load_string(const struct hz_ini_table *t, void *conf, const char *name,
                   const char *text, char *err, size_t errlen)
{
	struct load_ctx c = { .t = t, .conf = conf, .name = name, .text = text };

	return load(&c, err, errlen);
}

/* ---- comparing, copying, printing ------------------------------------------ */

static bool
opt_equal(const struct hz_ini_opt *o, const void *a, const void *b)
{
	const char *pa = (const char *)a + o->offset, *pb = (const char *)b + o->offset;

	switch (o->type) {
	case HZ_INI_STR:
		if (o->size)
			return !strcmp(pa, pb);
		pa = *(char *const *)pa;
		pb = *(char *const *)pb;
		return !strcmp(pa ? pa : "", pb ? pb : "");
	case HZ_INI_INT:
	case HZ_INI_ENUM:
		return *(const int *)pa == *(const int *)pb;
	case HZ_INI_UINT:
		return *(const unsigned *)pa == *(const unsigned *)pb;
	case HZ_INI_I64:
		return *(const int64_t *)pa == *(const int64_t *)pb;
	case HZ_INI_DBL:
		return *(const double *)pa == *(const double *)pb;
	case HZ_INI_SIZE:
		return *(const uint64_t *)pa == *(const uint64_t *)pb;
	case HZ_INI_CUSTOM:
		return o->equal(a, b);
	}
	return false;
}

/* Bytes of the value in the struct, or 0 when it cannot be copied so. */
static size_t
opt_width(const struct hz_ini_opt *o)
{
	switch (o->type) {
	case HZ_INI_STR: return o->size;
	case HZ_INI_INT: case HZ_INI_ENUM: return sizeof(int);
	case HZ_INI_UINT: return sizeof(unsigned);
	case HZ_INI_I64: return sizeof(int64_t);
	case HZ_INI_DBL: return sizeof(double);
	case HZ_INI_SIZE: return sizeof(uint64_t);
	case HZ_INI_CUSTOM: return o->size;    /* 0: not a plain value */
	}
	return 0;
}

int
hz_ini_apply_reload(const struct hz_ini_table *t, void *cur, const void *next, char *names,
                    size_t nameslen)
{
	int n = 0;

	if (names && nameslen)
		names[0] = '\0';
	for (size_t i = 0; i < t->nopts; i++) {
		const struct hz_ini_opt *o = &t->opts[i];
		size_t width = opt_width(o);

		if (opt_equal(o, cur, next))
			continue;
		if (o->reload && width) {
			memcpy((char *)cur + o->offset, (const char *)next + o->offset, width);
			continue;
		}
		if (names && nameslen) {
			size_t len = strlen(names);

			snprintf(names + len, nameslen - len, "%s%s.%s", n ? "," : "", o->section,
				 o->key);
		}
		n++;
	}
	return n;
}

void
hz_ini_print_help(const struct hz_ini_table *t, FILE *out)
{
	static const char *const type_names[] = {
		[HZ_INI_STR] = "string", [HZ_INI_INT] = "int", [HZ_INI_UINT] = "int",
		[HZ_INI_I64] = "int", [HZ_INI_DBL] = "number", [HZ_INI_SIZE] = "size",
		[HZ_INI_ENUM] = "enum", [HZ_INI_CUSTOM] = "string",
	};

	for (size_t i = 0; i < t->nopts; i++) {
		const struct hz_ini_opt *o = &t->opts[i];
		char bounds[64] = "";

		if (o->type == HZ_INI_DBL)
			snprintf(bounds, sizeof(bounds), " %g..%g", o->min, o->max);
		else if (o->type != HZ_INI_STR && o->type != HZ_INI_ENUM && o->type != HZ_INI_CUSTOM)
			snprintf(bounds, sizeof(bounds), " %.0f..%.0f", o->min, o->max);
		fprintf(out, "  [%s] %s (%s%s, default \"%s\"): %s", o->section, o->key,
			type_names[o->type], bounds, o->def, o->help);
		if (t->show_reload && o->reload)
			fputs(" (SIGHUP reloads)", out);
		if (o->alias)
			fprintf(out, " (also read as %s)", o->alias);
		fputc('\n', out);
	}
}

static void
print_value(const struct hz_ini_opt *o, const void *conf, FILE *out)
{
	const char *p = (const char *)conf + o->offset;

	switch (o->type) {
	case HZ_INI_STR:
		if (!o->size)
			p = *(char *const *)p;
		fputs(p ? p : "", out);
		return;
	case HZ_INI_INT: fprintf(out, "%d", *(const int *)p); return;
	case HZ_INI_UINT: fprintf(out, "%u", *(const unsigned *)p); return;
	case HZ_INI_I64: fprintf(out, "%" PRId64, *(const int64_t *)p); return;
	case HZ_INI_DBL: fprintf(out, "%g", *(const double *)p); return;
	case HZ_INI_SIZE: fprintf(out, "%" PRIu64, *(const uint64_t *)p); return;
	case HZ_INI_ENUM:
		for (size_t i = 0; o->names[i]; i++) {
			if ((o->values ? o->values[i] : (int)i) == *(const int *)p) {
				fputs(o->names[i], out);
				return;
			}
		}
		return;
	case HZ_INI_CUSTOM:
		return;
	}
}

void
hz_ini_print(const struct hz_ini_table *t, const void *conf, FILE *out)
{
	const char *section = NULL;

	for (size_t i = 0; i < t->nopts; i++) {
		const struct hz_ini_opt *o = &t->opts[i];

		if (o->type == HZ_INI_CUSTOM)
			continue;
		if (!section || strcmp(section, o->section)) {
			fprintf(out, "%s[%s]\n", section ? "\n" : "", o->section);
			section = o->section;
		}
		fprintf(out, "%s = ", o->key);
		print_value(o, conf, out);
		fputc('\n', out);
	}
}

void
hz_ini_free(const struct hz_ini_table *t, void *conf)
{
	for (size_t i = 0; i < t->nopts; i++) {
		const struct hz_ini_opt *o = &t->opts[i];

		if (o->type == HZ_INI_STR && !o->size) {
			char **p = (char **)((char *)conf + o->offset);

			free(*p);
			*p = NULL;
		}
	}
}

const char *
hz_ini_strerror(int err)
{
	switch (err) {
	case HZ_INI_OK: return "success";
	case HZ_INI_EIO: return "cannot read the configuration file";
	case HZ_INI_EPARSE: return "bad configuration";
	case HZ_INI_ENOMEM: return "out of memory";
	}
	return "unknown error";
}
