/*
 * test_common_conf.c - cmocka cases for common/'s configuration parts: the
 * INI option-table engine (hz_ini: every type and its bounds, aliases,
 * unknown sections and keys, keys given twice, line numbers, defaults,
 * command-line overrides, reload, --help and the effective values), the
 * reconnect backoff (hz_backoff) and the logger's line (hz_log).
 * Each table row is a named case; a failure prints the row's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hz_backoff.h"
#include "common/hz_ini.h"
#include "common/hz_log.h"

/* ---- a configuration of every type --------------------------------------- */

struct conf {
	char name[16];
	char *path;             /* a heap string */
	int port;
	unsigned count;
	int64_t big;
	double ratio;
	uint64_t bytes;
	int mode;               /* enum, values = index */
	int proto;              /* enum with its own values */
	int keepalive_s;        /* also read as "keepalive" */
	char items[8][8];       /* custom: comma-separated words */
	int nitems;
};

#define OFF(f) offsetof(struct conf, f)
#define SZ(f) sizeof(((struct conf *)0)->f)

static const char *const mode_names[] = { "off", "on", "auto", NULL };
static const char *const proto_names[] = { "3.1.1", "5", NULL };
static const int proto_values[] = { 3, 5 };

static const char *
parse_items(void *conf, const char *value)
{
	struct conf *c = conf;
	const char *p = value;

	c->nitems = 0;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(c->items[0]))
			return "each item has 1 to 7 characters";
		if (c->nitems == 8)
			return "too many items";
		memcpy(c->items[c->nitems], p, n);
		c->items[c->nitems++][n] = '\0';
		p += n + (p[n] == ',');
	}
	return NULL;
}

static bool
items_equal(const void *a, const void *b)
{
	const struct conf *x = a, *y = b;

	if (x->nitems != y->nitems)
		return false;
	for (int i = 0; i < x->nitems; i++)
		if (strcmp(x->items[i], y->items[i]))
			return false;
	return true;
}

static const struct hz_ini_opt opts[] = {
	{ .section = "a", .key = "name", .type = HZ_INI_STR, .offset = OFF(name), .size = SZ(name),
	  .def = "anon", .reload = true, .help = "a name" },
	{ .section = "a", .key = "path", .type = HZ_INI_STR, .offset = OFF(path),
	  .def = "/tmp", .help = "a path" },
	{ .section = "a", .key = "port", .type = HZ_INI_INT, .offset = OFF(port), .min = 1,
	  .max = 65535, .def = "1883", .help = "a port" },
	{ .section = "a", .key = "count", .type = HZ_INI_UINT, .offset = OFF(count), .min = 1,
	  .max = 10, .def = "1", .reload = true, .help = "a count" },
	{ .section = "a", .key = "big_s", .type = HZ_INI_I64, .offset = OFF(big), .min = 0,
	  .max = 1e12, .def = "300", .help = "a long time" },
	{ .section = "b", .key = "ratio", .type = HZ_INI_DBL, .offset = OFF(ratio), .min = 0,
	  .max = 1, .def = "0.5", .help = "a ratio" },
	{ .section = "b", .key = "bytes", .type = HZ_INI_SIZE, .offset = OFF(bytes), .min = 4096,
	  .max = 1099511627776.0, .def = "1M", .help = "a size" },
	{ .section = "b", .key = "mode", .type = HZ_INI_ENUM, .offset = OFF(mode),
	  .names = mode_names, .def = "auto", .help = "off, on, auto" },
	{ .section = "b", .key = "proto", .type = HZ_INI_ENUM, .offset = OFF(proto),
	  .names = proto_names, .values = proto_values, .def = "3.1.1", .help = "3.1.1 or 5" },
	{ .section = "b", .key = "keepalive_s", .alias = "keepalive", .type = HZ_INI_INT,
	  .offset = OFF(keepalive_s), .min = 5, .max = 3600, .def = "30", .help = "keepalive" },
	{ .section = "b", .key = "items", .type = HZ_INI_CUSTOM, .def = "x,y", .help = "words",
	  .parse = parse_items, .equal = items_equal },
};

static const struct hz_ini_table table = {
	.opts = opts, .nopts = sizeof(opts) / sizeof(opts[0]), .show_reload = true,
};

static const struct hz_ini_table table_last_wins = {
	.opts = opts, .nopts = sizeof(opts) / sizeof(opts[0]), .last_wins = true,
};

/* Another wording, as a program with messages of its own would give. */
static void
terse(const struct hz_ini_fault *f, char *buf, size_t len)
{
	snprintf(buf, len, "fault %d at %s.%s", (int)f->kind, f->section, f->key);
}

static const struct hz_ini_table table_terse = {
	.opts = opts, .nopts = sizeof(opts) / sizeof(opts[0]), .explain = terse,
};

static void
conf_default(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(hz_ini_defaults(&table, c), HZ_INI_OK);
}

static void
test_defaults(void **state)
{
	struct conf c;

	(void)state;
	conf_default(&c);
	assert_string_equal(c.name, "anon");
	assert_string_equal(c.path, "/tmp");
	assert_int_equal(c.port, 1883);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.big, 300);
	assert_true(c.ratio == 0.5);
	assert_true(c.bytes == 1024 * 1024);
	assert_int_equal(c.mode, 2);
	assert_int_equal(c.proto, 3);
	assert_int_equal(c.keepalive_s, 30);
	assert_int_equal(c.nitems, 2);
	assert_string_equal(c.items[1], "y");
	hz_ini_free(&table, &c);
	assert_null(c.path);
}

/* ---- good files ------------------------------------------------------------ */

struct good_case {
	const char *name;
	const char *text;
	void (*check)(const struct conf *c);
};

static void chk_empty(const struct conf *c) { assert_int_equal(c->port, 1883); }
static void chk_str(const struct conf *c)
{
	assert_string_equal(c->name, "fifteen chars!!");
	assert_string_equal(c->path, "/var/lib/x y");
}
static void chk_int(const struct conf *c)
{
	assert_int_equal(c->port, 65535);
	assert_int_equal(c->count, 10);
	assert_true(c->big == 1000000000000LL);
}
static void chk_dbl(const struct conf *c) { assert_true(c->ratio == 0.25); }
static void chk_size_k(const struct conf *c) { assert_true(c->bytes == 64 * 1024); }
static void chk_size_m(const struct conf *c) { assert_true(c->bytes == 64ull << 20); }
static void chk_size_gib(const struct conf *c) { assert_true(c->bytes == 2ull << 30); }
static void chk_size_t(const struct conf *c) { assert_true(c->bytes == 1ull << 40); }
static void chk_size_b(const struct conf *c) { assert_true(c->bytes == 5000); }
static void chk_enum(const struct conf *c)
{
	assert_int_equal(c->mode, 1);
	assert_int_equal(c->proto, 5);
}
static void chk_alias(const struct conf *c) { assert_int_equal(c->keepalive_s, 60); }
static void chk_custom(const struct conf *c)
{
	assert_int_equal(c->nitems, 3);
	assert_string_equal(c->items[2], "c");
}
static void chk_comments(const struct conf *c)
{
	assert_int_equal(c->port, 8883);
	assert_string_equal(c->name, "n");
}

static const struct good_case good_cases[] = {
	{ "empty file: the defaults", "", chk_empty },
	{ "strings: as long as the buffer allows, heap strings any length",
	  "[a]\nname = fifteen chars!!\npath = /var/lib/x y\n", chk_str },
	{ "integers at their upper bounds", "[a]\nport = 65535\ncount = 10\nbig_s = 1000000000000\n",
	  chk_int },
	{ "number", "[b]\nratio = .25\n", chk_dbl },
	{ "size in k", "[b]\nbytes = 64k\n", chk_size_k },
	{ "size in M, either case", "[b]\nbytes = 64m\n", chk_size_m },
	{ "size in GiB", "[b]\nbytes = 2GiB\n", chk_size_gib },
	{ "size in T", "[b]\nbytes = 1T\n", chk_size_t },
	{ "size in bytes with B", "[b]\nbytes = 5000B\n", chk_size_b },
	{ "enums in any case, with their values", "[b]\nmode = ON\nproto = 5\n", chk_enum },
	{ "the old spelling of a renamed key", "[b]\nkeepalive = 60\n", chk_alias },
	{ "a custom option", "[b]\nitems = a,b,c\n", chk_custom },
	{ "comments, blank lines, sections again",
	  "; a comment\n# another\n\n[a]\nport = 8883 ; inline\n[b]\n[a]\nname = n\n", chk_comments },
};

static void
test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		struct conf c;
		char err[512] = "";

		conf_default(&c);
		if (hz_ini_load_string(&table, &c, "good.conf", good_cases[i].text, err,
				       sizeof(err)) != HZ_INI_OK)
			fail_msg("%s: %s", good_cases[i].name, err);
		good_cases[i].check(&c);
		hz_ini_free(&table, &c);
	}
}

/* ---- bad files --------------------------------------------------------------- */

struct bad_case {
	const char *name;
	const struct hz_ini_table *table;
	const char *text;
	const char *message;    /* the whole error line */
};

static const struct bad_case bad_cases[] = {
	{ "unknown key", &table, "[a]\nport = 1\nprot = 2\n", "t.conf:3: unknown key 'prot' in [a]" },
	{ "unknown section", &table, "\n[c]\nport = 1\n", "t.conf:3: unknown section [c] (key 'port')" },
	{ "key outside a section", &table, "port = 1\n", "t.conf:1: key 'port' outside any [section]" },
	{ "alias in another section", &table, "[a]\nkeepalive = 9\n",
	  "t.conf:2: unknown key 'keepalive' in [a]" },
	{ "string too long", &table, "[a]\nname = sixteen chars!!!\n",
	  "t.conf:2: [a] name = 'sixteen chars!!!': value too long" },
	{ "not an integer", &table, "[a]\nport = 18x3\n",
	  "t.conf:2: [a] port = '18x3': not an integer" },
	{ "empty integer", &table, "[a]\nport =\n", "t.conf:2: [a] port = '': not an integer" },
	{ "integer above", &table, "[a]\nport = 65536\n", "t.conf:2: [a] port = '65536': out of range" },
	{ "integer below", &table, "[a]\n\n\ncount = 0\n", "t.conf:4: [a] count = '0': out of range" },
	{ "64-bit integer above", &table, "[a]\nbig_s = 1000000000001\n",
	  "t.conf:2: [a] big_s = '1000000000001': out of range" },
	{ "nan", &table, "[b]\nratio = nan\n", "t.conf:2: [b] ratio = 'nan': not a number" },
	{ "number above", &table, "[b]\nratio = 1.5\n", "t.conf:2: [b] ratio = '1.5': out of range" },
	{ "size with an unknown unit", &table, "[b]\nbytes = 12Q\n",
	  "t.conf:2: [b] bytes = '12Q': not a size (digits and an optional k, M, G or T)" },
	{ "negative size", &table, "[b]\nbytes = -1M\n",
	  "t.conf:2: [b] bytes = '-1M': not a size (digits and an optional k, M, G or T)" },
	{ "size below", &table, "[b]\nbytes = 1k\n", "t.conf:2: [b] bytes = '1k': out of range" },
	{ "size overflowing", &table, "[b]\nbytes = 99999999999999999999\n",
	  "t.conf:2: [b] bytes = '99999999999999999999': not a size (digits and an optional k, M, G or T)" },
	{ "enum", &table, "[b]\nmode = maybe\n",
	  "t.conf:2: [b] mode = 'maybe': not one of the allowed values" },
	{ "custom", &table, "[b]\nitems = a,,b\n",
	  "t.conf:2: [b] items = 'a,,b': each item has 1 to 7 characters" },
	{ "key twice", &table, "[a]\nport = 1\nport = 2\n", "t.conf:3: [a] port given twice" },
	{ "key twice, once by its old name", &table, "[b]\nkeepalive_s = 10\nkeepalive = 20\n",
	  "t.conf:3: [b] keepalive given twice" },
	{ "syntax error", &table, "[a]\nport 1\n",
	  "t.conf:2: syntax error (want [section] or key = value)" },
	{ "the first error is reported: syntax", &table, "[a]\nport 1\nprot = 2\n",
	  "t.conf:2: syntax error (want [section] or key = value)" },
	{ "the first error is reported: key", &table, "[a]\nprot = 2\nport 1\n",
	  "t.conf:2: unknown key 'prot' in [a]" },
	{ "a table's own wording", &table_terse, "[a]\nport = x\n", "t.conf:2: fault 4 at a.port" },
	{ "a table's own wording, unknown key", &table_terse, "[z]\nport = x\n",
	  "t.conf:2: fault 1 at z.port" },
};

static void
test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct conf c;
		char err[512] = "";

		conf_default(&c);
		if (hz_ini_load_string(b->table, &c, "t.conf", b->text, err, sizeof(err)) !=
		    HZ_INI_EPARSE)
			fail_msg("%s: accepted", b->name);
		if (strcmp(err, b->message))
			fail_msg("%s: got \"%s\", want \"%s\"", b->name, err, b->message);
		hz_ini_free(&table, &c);
	}
}

static void
test_last_wins(void **state)
{
	struct conf c;
	char err[512] = "";

	(void)state;
	conf_default(&c);
	assert_int_equal(hz_ini_load_string(&table_last_wins, &c, "t.conf",
					     "[a]\nport = 1\npath = /a\n[b]\nkeepalive = 10\n"
					     "[a]\nport = 2\npath = /b\n[b]\nkeepalive_s = 20\n",
					     err, sizeof(err)), HZ_INI_OK);
	assert_int_equal(c.port, 2);
	assert_string_equal(c.path, "/b");
	assert_int_equal(c.keepalive_s, 20);
	hz_ini_free(&table, &c);
}

static void
test_set(void **state)
{
	struct conf c;
	char err[512] = "";

	(void)state;
	conf_default(&c);
	assert_int_equal(hz_ini_set(&table, &c, "a", "path", "/srv", err, sizeof(err)), HZ_INI_OK);
	assert_string_equal(c.path, "/srv");
	assert_int_equal(hz_ini_set(&table, &c, "b", "keepalive", "45", err, sizeof(err)), HZ_INI_OK);
	assert_int_equal(c.keepalive_s, 45);
	/* No file, no line; given twice is not checked. */
	assert_int_equal(hz_ini_set(&table, &c, "b", "keepalive", "46", err, sizeof(err)), HZ_INI_OK);
	assert_int_equal(hz_ini_set(&table, &c, "a", "port", "0", err, sizeof(err)), HZ_INI_EPARSE);
	assert_string_equal(err, "[a] port = '0': out of range");
	assert_int_equal(hz_ini_set(&table, &c, "a", "nope", "0", err, sizeof(err)), HZ_INI_EPARSE);
	assert_string_equal(err, "unknown key 'nope' in [a]");
	assert_int_equal(hz_ini_set(&table, &c, "a", "port", "0", NULL, 0), HZ_INI_EPARSE);
	hz_ini_free(&table, &c);
}

static void
test_file(void **state)
{
	char path[] = "/tmp/test_common_conf.XXXXXX";
	int fd = mkstemp(path);
	struct conf c;
	char err[512] = "", want[600];
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("[a]\n; a comment\nport = 1884\n[b]\nratio = 2\n", f);
	fclose(f);
	conf_default(&c);
	assert_int_equal(hz_ini_load(&table, &c, path, err, sizeof(err)), HZ_INI_EPARSE);
	snprintf(want, sizeof(want), "%s:5: [b] ratio = '2': out of range", path);
	assert_string_equal(err, want);
	assert_int_equal(c.port, 1884);
	unlink(path);
	assert_int_equal(hz_ini_load(&table, &c, path, err, sizeof(err)), HZ_INI_EIO);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
	hz_ini_free(&table, &c);
}

static void
test_reload(void **state)
{
	struct conf cur, next;
	char err[512] = "", names[256];

	(void)state;
	conf_default(&cur);
	conf_default(&next);
	assert_int_equal(hz_ini_load_string(&table, &next, "r.conf",
					    "[a]\nname = new\ncount = 5\nport = 1999\n[b]\nitems = q\n",
					    err, sizeof(err)), HZ_INI_OK);
	assert_int_equal(hz_ini_apply_reload(&table, &cur, &next, names, sizeof(names)), 2);
	assert_string_equal(names, "a.port,b.items");
	assert_string_equal(cur.name, "new");           /* reloadable */
	assert_int_equal(cur.count, 5);
	assert_int_equal(cur.port, 1883);               /* needs a restart */
	assert_int_equal(cur.nitems, 2);
	/* Heap strings compare by value. */
	assert_int_equal(hz_ini_set(&table, &next, "a", "path", "/tmp", err, sizeof(err)), HZ_INI_OK);
	next.port = cur.port;
	assert_int_equal(hz_ini_apply_reload(&table, &cur, &next, NULL, 0), 1);
	hz_ini_free(&table, &cur);
	hz_ini_free(&table, &next);
}

/* What hz_ini_print (C given) or hz_ini_print_help writes; malloc'd. */
static char *
capture_help(const struct hz_ini_table *t, const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (c)
		hz_ini_print(t, c, f);
	else
		hz_ini_print_help(t, f);
	fclose(f);
	return buf;
}

static void
test_help(void **state)
{
	static const char *const want[] = {
		"  [a] name (string, default \"anon\"): a name (SIGHUP reloads)\n",
		"  [a] port (int 1..65535, default \"1883\"): a port\n",
		"  [b] ratio (number 0..1, default \"0.5\"): a ratio\n",
		"  [b] bytes (size 4096..1099511627776, default \"1M\"): a size\n",
		"  [a] big_s (int 0..1000000000000, default \"300\"): a long time\n",
		"  [b] mode (enum, default \"auto\"): off, on, auto\n",
		"  [b] keepalive_s (int 5..3600, default \"30\"): keepalive (also read as keepalive)\n",
	};
	char *buf;

	(void)state;
	buf = capture_help(&table, NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("help lacks \"%s\":\n%s", want[i], buf);
	free(buf);
	/* Without show_reload, no reload rule. */
	buf = capture_help(&table_last_wins, NULL);
	assert_null(strstr(buf, "SIGHUP"));
	free(buf);
}

static void
test_print(void **state)
{
	struct conf c;
	char *buf;

	(void)state;
	conf_default(&c);
	buf = capture_help(&table, &c);
	assert_string_equal(buf, "[a]\nname = anon\npath = /tmp\nport = 1883\ncount = 1\nbig_s = 300\n"
			    "\n[b]\nratio = 0.5\nbytes = 1048576\nmode = auto\nproto = 3.1.1\n"
			    "keepalive_s = 30\n");
	free(buf);
	hz_ini_free(&table, &c);
}

/* ---- backoff ------------------------------------------------------------------ */

static void
test_backoff(void **state)
{
	static const int64_t want[] = { 250, 500, 1000, 2000, 4000, 8000, 10000, 10000 };
	struct hz_backoff b = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(hz_backoff_next(&b, 250, 10000), want[i]);
	hz_backoff_reset(&b);
	assert_int_equal(hz_backoff_next(&b, 250, 10000), 250);
	/* The bounds come with each step: a lower maximum applies at once. */
	assert_int_equal(hz_backoff_next(&b, 250, 300), 300);
	assert_int_equal(hz_backoff_next(&b, 250, 300), 300);
	/* min == max: always the same. */
	hz_backoff_reset(&b);
	assert_int_equal(hz_backoff_next(&b, 7, 7), 7);
	assert_int_equal(hz_backoff_next(&b, 7, 7), 7);
}

static void
test_backoff_jitter(void **state)
{
	static const struct { int64_t delay; uint32_t rnd; int64_t want; } cases[] = {
		{ 250, 0, 125 }, { 250, 125, 250 }, { 250, 126, 125 }, { 251, 125, 250 },
		{ 1000, 4000000000u, 500 + 4000000000u % 501 }, { 1, 12345, 0 }, { 0, 9, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (hz_backoff_jitter(cases[i].delay, cases[i].rnd) != cases[i].want)
			fail_msg("jitter(%lld, %u) = %lld, want %lld", (long long)cases[i].delay,
				 cases[i].rnd, (long long)hz_backoff_jitter(cases[i].delay, cases[i].rnd),
				 (long long)cases[i].want);
}

/* ---- logger --------------------------------------------------------------------- */

/* What hz_log writes to stderr while FN runs. */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/test_common_conf_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	static char buf[8192];
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void
log_some(void)
{
	hz_log_set_level(HZ_LOG_INFO);
	hz_log(HZ_LOG_DEBUG, "hidden", "x=%d", 1);
	hz_log(HZ_LOG_INFO, "mqtt_connected", "host=%s port=%d", "10.0.0.1", 1883);
	hz_log(HZ_LOG_ERROR, "out_of_memory", "%s", "");
	hz_log_set_level(HZ_LOG_ERROR);
	hz_log(HZ_LOG_WARN, "hidden", "%s", "");
	hz_log_set_level(HZ_LOG_INFO);
}

static void
log_long(void)
{
	char big[4000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hz_log(HZ_LOG_WARN, "long", "v=%s", big);
}

/* A server's message as libpq gives it: lines, and a COPY row's tabs. */
static void
log_controls(void)
{
	hz_log(HZ_LOG_ERROR, "batch_failed", "why=\"%s\"",
	       "ERROR:  bad\nCONTEXT:  COPY positions, line 1: \"a\tb\"\r\n\x7f");
}

static void
test_log(void **state)
{
	static const char want1[] = " level=info event=mqtt_connected host=10.0.0.1 port=1883\n";
	char *out;
	const char *l2;

	(void)state;
	out = capture_stderr(log_some);
	/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ, then the level and event. */
	assert_int_equal(strncmp(out, "ts=", 3), 0);
	assert_int_equal(out[13], 'T');
	assert_int_equal(out[22], '.');
	assert_int_equal(out[26], 'Z');
	l2 = strchr(out, '\n') + 1;
	assert_int_equal(strncmp(out + 27, want1, strlen(want1)), 0);
	/* Nothing after the event: no trailing space. */
	assert_string_equal(l2 + 27, " level=error event=out_of_memory\n");
	assert_null(strstr(out, "hidden"));
	assert_string_equal(hz_log_level_name(HZ_LOG_WARN), "warn");
	assert_string_equal(hz_log_level_name((enum hz_log_level)9), "unknown");
	assert_true(hz_log_enabled(HZ_LOG_INFO));
	assert_false(hz_log_enabled(HZ_LOG_DEBUG));
	/* A long line is cut at 2 KiB, newline included. */
	out = capture_stderr(log_long);
	assert_int_equal(strlen(out), 2047);
	assert_int_equal(out[2046], '\n');
	/* Tabs, newlines, CR, DEL in a value: spaces; one line. */
	out = capture_stderr(log_controls);
	assert_string_equal(out + 27, " level=error event=batch_failed why=\"ERROR:  bad CONTEXT:  "
			    "COPY positions, line 1: \"a b\"   \"\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_backoff_jitter),
		cmocka_unit_test(test_log),
	};

	return cmocka_run_group_tests_name("common_conf", tests, NULL, NULL);
}
