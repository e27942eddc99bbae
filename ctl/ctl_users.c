/*
 * ctl_users.c: hazgate-ctl users ... and tokens ...: hazgate-web's accounts
 * and API tokens (schema/004_web.sql).
 *
 *   users add NAME --role viewer|dispatcher|admin [--password-file F]
 *   users passwd NAME [--password-file F]
 *   users disable NAME | users enable NAME
 *   users list
 *   tokens add NAME --role viewer|dispatcher     (prints the token once)
 *   tokens list
 *   tokens revoke NAME
 *
 * A password comes from --password-file (up to its first newline), else
 * is asked twice on the terminal without echo; with neither, the command
 * refuses. It is stored as libsodium's Argon2id string (crypto_pwhash_str,
 * the interactive limits: ~0.1 s and 64 MiB to check, which hazgate-web
 * does on a worker thread). A token is 32 random bytes in hex, stored as
 * its SHA-256 (hazgate_web_secret_hash, in the database). A new password
 * and a disabled account end the account's sessions. Needs a login in
 * hazgate_admin.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#define PASSWORD_MAX 1024

static const char users_usage[] =
	"users add NAME --role viewer|dispatcher|admin [--password-file F] | users passwd NAME "
	"[--password-file F] | users disable NAME | users enable NAME | users list";

static const char users_help[] =
	"usage: hazgate-ctl users add NAME --role viewer|dispatcher|admin [--password-file F]\n"
	"       hazgate-ctl users passwd NAME [--password-file F]\n"
	"       hazgate-ctl users disable NAME | users enable NAME\n"
	"       hazgate-ctl users list [--format table|json|csv]\n"
	"\n"
	"hazgate-web's accounts. viewer sees, dispatcher also acknowledges alerts,\n"
	"admin also manages. The password is read from --password-file (up to its\n"
	"first newline), else asked twice on the terminal; it is stored as an\n"
	"Argon2id hash. passwd and disable end the account's sessions.\n";

static const char tokens_usage[] =
	"tokens add NAME --role viewer|dispatcher | tokens list | tokens revoke NAME";

static const char tokens_help[] =
	"usage: hazgate-ctl tokens add NAME --role viewer|dispatcher\n"
	"       hazgate-ctl tokens list [--format table|json|csv]\n"
	"       hazgate-ctl tokens revoke NAME\n"
	"\n"
	"API tokens for machines (Authorization: Bearer TOKEN). add prints the token\n"
	"once; only its hash is stored. An acknowledgement made with a token is\n"
	"recorded as token:NAME.\n";

enum { OPT_ROLE = CTL_OPT_FIRST_COMMAND, OPT_PASSWORD_FILE };

static const struct option longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ NULL, 0, NULL, 0 },
};

/* Reads the first line of path into buf (cap bytes). Returns 0 or -1
 * (printed). */
static int
password_from_file(const char *cmd, const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp) {
		ctl_error(cmd, "--password-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, (int)cap, fp))
		buf[0] = '\0';
	fclose(fp);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0) {
		ctl_error(cmd, "--password-file %s: the first line is empty", path);
		return -1;
	}
	return 0;
}

static int
prompt(const char *what, char *buf, size_t cap)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int ok;

	if (!tty)
		return -1;
	fprintf(tty, "%s", what);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = fgets(buf, (int)cap, tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* The new password, hashed into hash. Returns 0 or -1 (printed). */
static int
new_password_hash(const char *cmd, const char *file, char hash[crypto_pwhash_STRBYTES])
{
	char pw[PASSWORD_MAX + 2], again[PASSWORD_MAX + 2];
	int rc = -1;

	if (file) {
		if (password_from_file(cmd, file, pw, sizeof(pw)) != 0)
			return -1;
	} else if (!isatty(STDIN_FILENO)) {
		ctl_error(cmd, "no terminal to ask the password on: give --password-file F");
		return -1;
	} else {
		if (prompt("Password: ", pw, sizeof(pw)) != 0 ||
		    prompt("Again: ", again, sizeof(again)) != 0) {
			ctl_error(cmd, "cannot read the password from the terminal");
			goto done;
		}
		if (strcmp(pw, again) != 0) {
			ctl_error(cmd, "the two passwords differ");
			goto done;
		}
		if (!*pw) {
			ctl_error(cmd, "the password is empty");
			goto done;
		}
	}
	if (strlen(pw) > PASSWORD_MAX) {
		ctl_error(cmd, "the password is longer than %d bytes", PASSWORD_MAX);
		goto done;
	}
	if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		ctl_error(cmd, "out of memory hashing the password");
		goto done;
	}
	rc = 0;
done:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(again, sizeof(again));
	return rc;
}

/* Runs sql; the number of rows it touched, or -1 (printed). */
static long
exec_count(PGconn *conn, const char *cmd, const char *sql, int n, const char *const *params)
{
	PGresult *res = ctl_query(conn, cmd, sql, n, params);
	long rows;

	if (!res)
		return -1;
	rows = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rows;
}

static int
list(PGconn *conn, const struct ctl_common *co, const char *sql,
     const struct ctl_column *cols, size_t ncols)
{
	PGresult *res = ctl_query(conn, co->cmd, sql, 0, NULL);
	ctl_out *o;

	if (!res)
		return CTL_EFAIL;
	o = ctl_out_new(co->format, cols, ncols, stdout, false);
	for (int i = 0; o && i < PQntuples(res); i++) {
		json_t *row = json_object();

		for (size_t k = 0; k < ncols; k++) {
			json_t *v;

			if (!strcmp(cols[k].key, "disabled"))
				v = ctl_field(res, i, (int)k) ? json_boolean(
					!strcmp(PQgetvalue(res, i, (int)k), "t")) : json_null();
			else if (cols[k].flags & CTL_COL_LOCALTIME)
				v = ctl_json_time(res, i, (int)k);
			else
				v = ctl_json_text(res, i, (int)k);
			json_object_set_new(row, cols[k].key, v);
		}
		ctl_out_row(o, row);
	}
	if (o)
		ctl_out_finish(o);
	ctl_out_free(o);
	PQclear(res);
	return o ? CTL_OK : CTL_EFAIL;
}

static bool
role_ok(const char *role, bool admin)
{
	return role && (!strcmp(role, "viewer") || !strcmp(role, "dispatcher") ||
			(admin && !strcmp(role, "admin")));
}

/* The sub-command and its operand: argv[1] the sub-command; options
 * parsed; *name the one operand (or NULL for list). Returns -1 to go on,
 * or the exit code. */
static int
parse(struct ctl_common *co, int argc, char **argv, const char *const *subs, const char **sub,
      const char **name, const char **role, const char **pwfile)
{
	const struct ctl_optval opts[] = {
		{ .code = OPT_ROLE, .value = role },
		{ .code = OPT_PASSWORD_FILE, .value = pwfile, .empty = "--password-file is empty" },
		{ .code = 0 },
	};
	int r;
	bool known = false;

	if (argc < 2)
		return ctl_usage_error(co->cmd, co->usage, "which? %s", co->usage);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(co->help, stdout);
		return CTL_OK;
	}
	*sub = argv[1];
	for (size_t i = 0; subs[i]; i++)
		known = known || !strcmp(subs[i], *sub);
	if (!known)
		return ctl_usage_error(co->cmd, co->usage, "unknown %s command '%s'", co->cmd,
				       *sub);
	r = ctl_parse_options(co, argc - 1, argv + 1, longopts, opts, true);
	if (r >= 0)
		return r;
	optind++;       /* over the sub-command */
	if (!strcmp(*sub, "list")) {
		if (optind < argc)
			return ctl_usage_error(co->cmd, co->usage, "unexpected argument '%s'",
					       argv[optind]);
		*name = NULL;
	} else {
		if (optind >= argc)
			return ctl_usage_error(co->cmd, co->usage, "%s %s needs a NAME", co->cmd,
					       *sub);
		if (optind + 1 < argc)
			return ctl_usage_error(co->cmd, co->usage, "unexpected argument '%s'",
					       argv[optind + 1]);
		*name = argv[optind];
		if (!**name || strlen(*name) > 64)
			return ctl_usage_error(co->cmd, co->usage, "a NAME is 1..64 bytes");
	}
	if (*role && strcmp(*sub, "add"))
		return ctl_usage_error(co->cmd, co->usage, "--role is for add");
	return -1;
}

int
ctl_users_main(int argc, char **argv)
{
	static const char *const subs[] = { "add", "passwd", "disable", "enable", "list", NULL };
	static const struct ctl_column cols[] = {
		{ "name", NULL, 0, 0 },
		{ "role", NULL, 0, 0 },
		{ "disabled", NULL, 0, 0 },
		{ "created_at", "CREATED", CTL_COL_LOCALTIME, 0 },
		{ "created_by", "BY", 0, 0 },
	};
	struct ctl_common co = { .cmd = "users", .usage = users_usage, .help = users_help,
				 .formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
				 .format = CTL_FMT_TABLE };
	const char *sub = NULL, *name = NULL, *role = NULL, *pwfile = NULL;
	char hash[crypto_pwhash_STRBYTES];
	PGconn *conn;
	int r = parse(&co, argc, argv, subs, &sub, &name, &role, &pwfile);
	long n;

	if (r >= 0)
		return r;
	if (!strcmp(sub, "add") && !role_ok(role, true))
		return ctl_usage_error(co.cmd, co.usage, "users add needs --role viewer, "
				       "dispatcher or admin");
	if (pwfile && strcmp(sub, "add") && strcmp(sub, "passwd"))
		return ctl_usage_error(co.cmd, co.usage, "--password-file is for add and passwd");
	if (sodium_init() < 0) {
		ctl_error(co.cmd, "libsodium cannot start");
		return CTL_EFAIL;
	}
	if ((!strcmp(sub, "add") || !strcmp(sub, "passwd")) &&
	    new_password_hash(co.cmd, pwfile, hash) != 0)
		return CTL_EUSAGE;
	conn = ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	r = CTL_OK;
	if (!strcmp(sub, "list")) {
		r = list(conn, &co,
			 "SELECT name, role, disabled,"
			 " floor(extract(epoch FROM created_at) * 1000000)::int8, created_by"
			 " FROM web_users ORDER BY name", cols, sizeof(cols) / sizeof(cols[0]));
	} else if (!strcmp(sub, "add")) {
		const char *p[] = { name, role, hash };

		n = exec_count(conn, co.cmd, "INSERT INTO web_users (name, role, pwhash)"
			       " VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING", 3, p);
		if (n == 0)
			ctl_error(co.cmd, "there is already a user '%s' (users passwd changes "
				  "the password)", name);
		r = n == 1 ? CTL_OK : CTL_EFAIL;
		if (n == 1)
			printf("user %s added (%s)\n", name, role);
	} else {
		const char *p[] = { name, hash };
		const char *sql = !strcmp(sub, "passwd")
			? "WITH u AS (UPDATE web_users SET pwhash = $2, changed_at = now()"
			  " WHERE name = $1 RETURNING name),"
			  " s AS (DELETE FROM web_sessions WHERE user_name IN (SELECT name FROM u))"
			  " SELECT name FROM u"
			: !strcmp(sub, "disable")
			? "WITH u AS (UPDATE web_users SET disabled = true, changed_at = now()"
			  " WHERE name = $1 RETURNING name),"
			  " s AS (DELETE FROM web_sessions WHERE user_name IN (SELECT name FROM u))"
			  " SELECT name FROM u"
			: "UPDATE web_users SET disabled = false, changed_at = now() WHERE name = $1"
			  " RETURNING name";

		n = exec_count(conn, co.cmd, sql, strcmp(sub, "passwd") ? 1 : 2, p);
		if (n == 0)
			ctl_error(co.cmd, "there is no user '%s'", name);
		r = n == 1 ? CTL_OK : CTL_EFAIL;
		if (n == 1)
			printf("user %s: %s\n", name, !strcmp(sub, "passwd") ? "password changed, "
			       "sessions ended" : !strcmp(sub, "disable") ? "disabled, sessions ended"
			       : "enabled");
	}
	sodium_memzero(hash, sizeof(hash));
	PQfinish(conn);
	return r;
}

int
ctl_tokens_main(int argc, char **argv)
{
	static const char *const subs[] = { "add", "list", "revoke", NULL };
	static const struct ctl_column cols[] = {
		{ "name", NULL, 0, 0 },
		{ "role", NULL, 0, 0 },
		{ "created_at", "CREATED", CTL_COL_LOCALTIME, 0 },
		{ "created_by", "BY", 0, 0 },
		{ "revoked_at", "REVOKED", CTL_COL_LOCALTIME, 0 },
		{ "last_used", "USED", CTL_COL_LOCALTIME, 0 },
	};
	struct ctl_common co = { .cmd = "tokens", .usage = tokens_usage, .help = tokens_help,
				 .formats = CTL_FMT_TABLE | CTL_FMT_JSON | CTL_FMT_CSV,
				 .format = CTL_FMT_TABLE };
	const char *sub = NULL, *name = NULL, *role = NULL, *pwfile = NULL;
	unsigned char raw[32];
	char token[2 * sizeof(raw) + 1];
	PGconn *conn;
	int r = parse(&co, argc, argv, subs, &sub, &name, &role, &pwfile);
	long n;

	if (r >= 0)
		return r;
	if (pwfile)
		return ctl_usage_error(co.cmd, co.usage, "--password-file is for users");
	if (!strcmp(sub, "add") && !role_ok(role, false))
		return ctl_usage_error(co.cmd, co.usage, "tokens add needs --role viewer or "
				       "dispatcher");
	if (sodium_init() < 0) {
		ctl_error(co.cmd, "libsodium cannot start");
		return CTL_EFAIL;
	}
	conn = ctl_connect(co.conninfo);
	if (!conn)
		return CTL_EFAIL;
	if (!strcmp(sub, "list")) {
		r = list(conn, &co,
			 "SELECT name, role,"
			 " floor(extract(epoch FROM created_at) * 1000000)::int8, created_by,"
			 " floor(extract(epoch FROM revoked_at) * 1000000)::int8,"
			 " floor(extract(epoch FROM last_used) * 1000000)::int8"
			 " FROM web_tokens ORDER BY name", cols, sizeof(cols) / sizeof(cols[0]));
	} else if (!strcmp(sub, "add")) {
		const char *p[] = { name, role, token };

		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
		n = exec_count(conn, co.cmd, "INSERT INTO web_tokens (name, role, token_hash)"
			       " VALUES ($1, $2, hazgate_web_secret_hash($3))"
			       " ON CONFLICT (name) DO NOTHING", 3, p);
		if (n == 0)
			ctl_error(co.cmd, "there is already a token '%s' (revoke it, then add "
				  "one under another name)", name);
		r = n == 1 ? CTL_OK : CTL_EFAIL;
		if (n == 1)
			printf("%s\n", token);  /* the only time it is shown */
		sodium_memzero(token, sizeof(token));
	} else {
		const char *p[] = { name };

		n = exec_count(conn, co.cmd, "UPDATE web_tokens SET revoked_at = now()"
			       " WHERE name = $1 AND revoked_at IS NULL", 1, p);
		if (n == 0)
			ctl_error(co.cmd, "there is no token '%s' in force", name);
		r = n == 1 ? CTL_OK : CTL_EFAIL;
		if (n == 1)
			printf("token %s revoked\n", name);
	}
	PQfinish(conn);
	return r;
}
