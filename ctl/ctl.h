/*
 * ctl: hazgate-ctl, the dispatchers' and auditors' tool.
 *
 * Each command lives in its own file as ctl_<command>_main(argc, argv), with
 * argv[0] the command's name. Exit codes: 0 success, 1 a failure at run time
 * (database unreachable, statement refused), 2 bad arguments or input.
 *
 * The helpers declared below are shared by the commands: option parsing with
 * the options every command takes (-d, --format, --tz, --help), times in
 * RFC 3339 or local "YYYY-MM-DD HH:MM" in the configured time zone, the
 * three output formats, and blocking, parameterised queries.
 */
#ifndef HAZGATE_CTL_H
#define HAZGATE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <libpq-fe.h>

enum { CTL_OK = 0, CTL_EFAIL = 1, CTL_EUSAGE = 2 };

/* The -d CONNINFO given before the command, or NULL for libpq's PG* variables. */
extern const char *ctl_conninfo;

/* Connects (blocking) with conninfo, or ctl_conninfo when NULL; on failure
 * prints why to stderr and returns NULL. The caller PQfinish()es. The session
 * runs in UTC; times are exchanged as RFC 3339 text or epoch microseconds. */
PGconn *ctl_connect(const char *conninfo);

/* ---- commands ------------------------------------------------------- */

int ctl_migrate_main(int argc, char **argv);
int ctl_compact_main(int argc, char **argv);
int ctl_zones_main(int argc, char **argv);
int ctl_alerts_main(int argc, char **argv);
int ctl_ack_main(int argc, char **argv);
int ctl_vehicles_main(int argc, char **argv);
int ctl_track_main(int argc, char **argv);
int ctl_audit_main(int argc, char **argv);
int ctl_replay_main(int argc, char **argv);
int ctl_users_main(int argc, char **argv);
int ctl_tokens_main(int argc, char **argv);
int ctl_retention_main(int argc, char **argv);

/* ---- compaction (ctl_compact.c), shared with retention ------------------ */

struct ctl_compact_sum {
	int days;        /* compacted (dry run: due) */
	int failed;      /* left as they were, after saying why */
	long long fixes; /* moved into slices */
};

/*
 * Compacts (schema/012's hazgate_positions_compact) every UTC day d with
 * from <= d < before (YYYY-MM-DD; from NULL: no lower bound; before NULL:
 * yesterday) that still has fixes in rows, oldest first, one transaction a
 * day; each lock wait at most 5 s, a busy day tried again 3 times 5 s
 * apart. Prints "compacted DAY: N fixes" a day (dry_run: "DAY: would be
 * compacted", nothing changed) and fills *sum. Returns the days that
 * failed (0: all done), or -1 when the due days could not be listed
 * (said under cmd).
 */
int ctl_compact_days(PGconn *conn, const char *cmd, const char *from, const char *before,
		     bool dry_run, struct ctl_compact_sum *sum);

/* ---- diagnostics ----------------------------------------------------- */

/* "hazgate-ctl CMD: MESSAGE\n" on stderr. */
void ctl_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As ctl_error, then "usage: hazgate-ctl USAGE" and a pointer to --help;
 * returns CTL_EUSAGE so that a command can `return ctl_usage_error(...)`. */
int ctl_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- options --------------------------------------------------------- */

enum ctl_format {
	CTL_FMT_TABLE = 1 << 0,
	CTL_FMT_JSON = 1 << 1,
	CTL_FMT_CSV = 1 << 2,
	CTL_FMT_GEOJSON = 1 << 3,
	CTL_FMT_GPX = 1 << 4,
};

/* Option values every command understands; a command's getopt_long loop
 * hands unknown short codes to ctl_common_option(). */
struct ctl_common {
	const char *cmd;        /* command name, for messages */
	const char *usage;      /* one-line usage, for messages */
	const char *help;       /* full --help text */
	unsigned formats;       /* allowed enum ctl_format bits */
	enum ctl_format format; /* chosen (default: the first allowed, or as set) */
	const char *conninfo;   /* -d after the command, or NULL */
};

/* Long option codes shared by all commands (beyond single characters). */
enum {
	CTL_OPT_FORMAT = 0x100,
	CTL_OPT_TZ,
	CTL_OPT_HELP,
	CTL_OPT_FIRST_COMMAND /* commands number their own codes from here */
};

#define CTL_COMMON_LONGOPTS                                    \
	{ "format", required_argument, NULL, CTL_OPT_FORMAT }, \
		{ "tz", required_argument, NULL, CTL_OPT_TZ }, \
	{                                                      \
		"help", no_argument, NULL, CTL_OPT_HELP        \
	}

/* The short option string every command passes (before its own). */
#define CTL_COMMON_SHORTOPTS ":d:h"

/* Handles one getopt_long result for the common options: -d, --format,
 * --tz, --help/-h, and the errors ('?' unknown option, ':' missing value).
 * Returns -1 when handled and parsing should go on, CTL_OK when --help was
 * printed (the command returns it), CTL_EUSAGE after printing why. */
int ctl_common_option(struct ctl_common *co, int c, char **argv);

struct option;

/* One of a command's own options, for ctl_parse_options(): what its value
 * is checked with and where it goes. */
struct ctl_optval {
	int code;           /* the option's code in the command's long options */
	bool *flag;         /* an option without a value sets *flag, or NULL */
	const char **value; /* the value (borrowed from argv) goes here, or NULL */
	const char *empty;  /* when set: an empty value is this usage error */
	/* When set, called first with the value; returns -1 to go on, or the
     * exit code the command returns (after printing why). */
	int (*parse)(const struct ctl_common *co, const char *value, void *arg);
	void *arg; /* parse's third argument */
};

/*
 * A command's getopt_long loop: the common options (ctl_common_option) and
 * the command's own, longopts (which start with CTL_COMMON_LONGOPTS), whose
 * values go where opts (ended by an entry whose code is 0) says. When
 * operands is false, an argument that is not an option is a usage error.
 * Returns -1 when all is parsed (optind is at the first operand), else the
 * exit code for the command to return: CTL_OK after --help, CTL_EUSAGE
 * after printing why.
 */
int ctl_parse_options(struct ctl_common *co, int argc, char **argv, const struct option *longopts,
		      const struct ctl_optval *opts, bool operands);

/* ---- time ------------------------------------------------------------ */

/* The configured time zone (IANA name): --tz, else $HAZGATE_TZ, else
 * Asia/Shanghai. */
const char *ctl_tz_name(void);

/* Selects the time zone for local times; 0, or -1 when no such zone is
 * installed (the caller reports it as a usage error). */
int ctl_tz_set(const char *name);

/* Parses a time given on the command line: RFC 3339 with an offset
 * ("2019-08-10T08:00:00Z", "2019-08-10T16:00:00+08:00"), or local time in
 * the configured zone ("2019-08-10 16:00", "...:30", "2019-08-10"), or "now".
 * One parser with the daemon's (hz_time_scan, common/hz_time.h): fraction
 * digits beyond the microsecond dropped, second 60 the next minute's :00.
 * Returns 0 and *us (microseconds since the epoch), or -1. */
int ctl_time_parse(const char *s, int64_t *us);

/* The error text for a time that did not parse, naming the option. */
int ctl_time_error(const struct ctl_common *co, const char *option, const char *value);

/* --from and --to: both given, both times, --to after --from. Returns -1
 * with *from_us and *to_us set, or the exit code of the usage error it
 * printed (CTL_EUSAGE). */
int ctl_range_parse(const struct ctl_common *co, const char *from, const char *to,
		    int64_t *from_us, int64_t *to_us);

/* RFC 3339 UTC: "2019-08-10T08:03:12.000Z" (microseconds when not whole ms). */
void ctl_time_format(int64_t us, char buf[40]);

/* Local time in the configured zone: "2019-08-10 16:03:12". */
void ctl_time_format_local(int64_t us, char buf[40]);

/* Current time, microseconds since the epoch. */
int64_t ctl_now_us(void);

/* Parses a duration: "300", "300s", "5m", "2h", "1d", "1h30m".
 * Returns 0 and *seconds, or -1. */
int ctl_duration_parse(const char *s, int64_t *seconds);

/* ---- queries ---------------------------------------------------------- */

/* Runs a parameterised statement (text parameters, text results). Returns
 * the result when its status is TUPLES_OK or COMMAND_OK, else prints the
 * server's message under cmd and returns NULL. */
PGresult *ctl_query(PGconn *conn, const char *cmd, const char *sql, int nparams,
		    const char *const *params);

/* Field helpers over a result: NULL for SQL NULL. */
const char *ctl_field(const PGresult *res, int row, int col);
int64_t ctl_field_i64(const PGresult *res, int row, int col);

/* ---- output ----------------------------------------------------------- */

/* A column: key in the row object; header for the table (NULL: key in
 * upper case); flags. CSV prints every column with its key as header, JSON
 * the whole row object, the table the columns without CTL_COL_NOTABLE. */
struct ctl_column {
	const char *key;
	const char *header;
	unsigned flags;
	unsigned width; /* streamed tables: the column's width (0: the header's) */
};
#define CTL_COL_LOCALTIME 1u /* an RFC 3339 string: shown in local time */
#define CTL_COL_NOTABLE   2u /* not shown in the table */
#define CTL_COL_RIGHT     4u /* right-aligned in the table */
#define CTL_COL_DURATION  8u /* integer seconds: "2d 3h", "4m 05s" in the table */

typedef struct ctl_out ctl_out;

/* A writer for rows in format fmt (TABLE, JSON or CSV) on fp (borrowed).
 * A table is buffered and laid out at ctl_out_finish(), unless streaming:
 * then the header comes with the first row and columns have a fixed width
 * (for --follow). Returns NULL when out of memory. */
ctl_out *ctl_out_new(enum ctl_format fmt, const struct ctl_column *cols, size_t ncols, FILE *fp,
		     bool stream);

/* Adds one row (a JSON object; the writer takes the reference). */
void ctl_out_row(ctl_out *o, json_t *row);

/* Prints what is buffered and flushes. Returns the number of rows. */
size_t ctl_out_finish(ctl_out *o);

void ctl_out_free(ctl_out *o);

/* Compact one-line JSON of a value (keys in insertion order, reals with 15
 * significant digits); malloc'd. */
char *ctl_json_line(const json_t *v);

/* Values from result fields: a string, integer, real or JSON (parsed) value,
 * or json_null() for SQL NULL; a timestamp column given as epoch
 * microseconds becomes an RFC 3339 string. */
json_t *ctl_json_text(const PGresult *res, int row, int col);
json_t *ctl_json_int(const PGresult *res, int row, int col);
json_t *ctl_json_real(const PGresult *res, int row, int col);
json_t *ctl_json_parse(const PGresult *res, int row, int col);
json_t *ctl_json_time(const PGresult *res, int row, int col);
json_t *ctl_json_time_us(int64_t us);

/* ---- track export (ctl_trackfmt.c; hazgate-web links it too) ----------- */

/* The stored positions of one vehicle, $1, with $2 <= ts < $3 (RFC 3339),
 * in time order (through hazgate_positions_vehicle(), schema/018: a probe
 * of each tier's key, then the slices it needs): the columns
 * ctl_track_write reads. */
extern const char ctl_track_sql[];

/* Writes the track in res (ctl_track_sql's result, borrowed) to fp in fmt
 * (GEOJSON, GPX, CSV or JSON), as hazgate-ctl track prints it; from and to
 * are the range as RFC 3339 UTC text (ctl_time_format). A fix GPX cannot
 * hold (NaN) is left out with a line on stderr. */
void ctl_track_write(FILE *fp, enum ctl_format fmt, const char *vehicle, const char *from,
		     const char *to, const PGresult *res);

struct ctl_fixes;

/* The same for fixes f (time order, borrowed; ctl_slices.h), as
 * ctl_track_write writes ctl_fixes_track_result(f), byte for byte, straight
 * from the decoded values (ctl_trackfix.c; hazgate-ctl track and
 * hazgate-web's track); GeoJSON reads only their times, places and speeds
 * (CTL_WANT_SPEED). Returns 0, or -1 when out of memory (part of the
 * output may be written). */
int ctl_track_write_fixes(FILE *fp, enum ctl_format fmt, const char *vehicle, const char *from,
			  const char *to, const struct ctl_fixes *f);

/* The fields (CTL_WANT_*, ctl_slices.h) ctl_slices_fetch must read for
 * ctl_track_write_fixes in fmt: CTL_WANT_SPEED for GeoJSON, else
 * CTL_WANT_TRACK. */
unsigned ctl_track_want(enum ctl_format fmt);


#endif
