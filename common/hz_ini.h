/*
 * hz_ini.h - the INI option-table engine of hazgate's programs (prefix
 * hz_ini_), in the manner of Redis's config.c.
 *
 * A program lists every option of its configuration file once, in a table
 * of section, key, type, place in its own struct, bounds, default, reload
 * rule and help. The engine reads a file (with libinih) or a string over
 * the struct, sets the defaults through the same parser as the file (so a
 * default can never be out of its own bounds), sets one option from the
 * command line, applies what a reload may change, and prints the table for
 * --help and the effective values for --check-config.
 *
 * Errors name the file and the line ("FILE:LINE: message"; "FILE:
 * message" when no line applies). An unknown section or key, a bad value
 * and a syntax error are errors; so is a key given twice, unless the table
 * says the last one counts. Only the first error is reported. The wording
 * of an error in a key or value is the table's (hz_ini_explain by default).
 *
 * Units: an option whose value has a unit carries it as the suffix of its
 * key (`_ms`, `_s`, `_days`, `_bytes`, `_m`, `_kmh`). An option renamed to
 * follow that rule keeps its old spelling as an alias, so that existing
 * files still work.
 *
 * Limits: lines up to inih's INI_MAX_LINE (200 bytes); a value continued
 * on the next line (inih multi-line) is reported at the continuation line.
 */
#ifndef HAZGATE_HZ_INI_H
#define HAZGATE_HZ_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum hz_ini_err {
	HZ_INI_OK = 0,
	HZ_INI_EIO = -1,        /* the file cannot be opened or read */
	HZ_INI_EPARSE = -2,     /* a syntax error, unknown key or bad value */
	HZ_INI_ENOMEM = -3,     /* out of memory (a string option held on the heap) */
};

/* What an option holds, and how its value is read. */
enum hz_ini_type {
	HZ_INI_STR,     /* text: char[size] in the struct, or (size 0) a malloc'd char * */
	HZ_INI_INT,     /* int: a decimal integer in [min, max] */
	HZ_INI_UINT,    /* unsigned: as HZ_INI_INT */
	HZ_INI_I64,     /* int64_t: as HZ_INI_INT */
	HZ_INI_DBL,     /* double: a finite number in [min, max] */
	HZ_INI_SIZE,    /* uint64_t bytes: digits, then k, M, G or T (powers of 1024,
	                   either case), an optional i and B; [min, max] in bytes */
	HZ_INI_ENUM,    /* int: one of names[] (any case); values[i], or i */
	HZ_INI_CUSTOM,  /* the option's own parse() and equal() */
};

struct hz_ini_opt {
	const char *section;
	const char *key;
	const char *alias;              /* an old spelling still read, or NULL */
	enum hz_ini_type type;
	size_t offset;                  /* of the value in the program's struct */
	size_t size;                    /* HZ_INI_STR: the buffer's size; 0: heap.
	                                   HZ_INI_CUSTOM: bytes of a plain value at
	                                   offset (a reload copies them), or 0 */
	double min, max;                /* numeric bounds, inclusive */
	const char *const *names;       /* HZ_INI_ENUM: NULL-terminated */
	const int *values;              /* HZ_INI_ENUM: the value of each name; NULL: the index */
	const char *def;                /* the default, as a file would say it */
	bool reload;                    /* a reload (SIGHUP) applies it */
	const char *help;               /* one line for --help */
	/* HZ_INI_CUSTOM: store VALUE into CONF (the whole struct); returns
	 * NULL, or a static text saying what is wrong. */
	const char *(*parse)(void *conf, const char *value);
	/* HZ_INI_CUSTOM: whether the option's values in A and B are the same. */
	bool (*equal)(const void *a, const void *b);
};

/* What went wrong with one key or value, for a table's own wording. */
enum hz_ini_fault_kind {
	HZ_INI_NO_SECTION,              /* a key before any [section] */
	HZ_INI_UNKNOWN_SECTION,         /* no option lives in this section */
	HZ_INI_UNKNOWN_KEY,             /* the section has no such key */
	HZ_INI_TWICE,                   /* the option was given before */
	HZ_INI_BAD_VALUE,               /* the value does not parse or is out of bounds */
};

struct hz_ini_fault {
	enum hz_ini_fault_kind kind;
	const char *section, *key, *value;      /* as written */
	const struct hz_ini_opt *opt;           /* NULL when unknown */
	const char *why;                        /* HZ_INI_BAD_VALUE: what is wrong */
};

struct hz_ini_table {
	const struct hz_ini_opt *opts;
	size_t nopts;
	bool last_wins;         /* a key given twice: the last value counts (else an error) */
	bool show_reload;       /* --help says which options a reload applies */
	/* Words a fault into BUF (LEN bytes); NULL: hz_ini_explain. */
	void (*explain)(const struct hz_ini_fault *f, char *buf, size_t len);
};

/*
 * The default wording of a fault:
 *   key 'K' outside any [section]
 *   unknown section [S] (key 'K')
 *   unknown key 'K' in [S]
 *   [S] K given twice
 *   [S] K = 'VALUE': WHY
 */
void hz_ini_explain(const struct hz_ini_fault *f, char *buf, size_t len);

/*
 * Set every option of CONF to its default. CONF starts zeroed (or holds an
 * earlier configuration of the same table: heap strings are freed as they
 * are replaced). Returns HZ_INI_OK, HZ_INI_ENOMEM, or HZ_INI_EPARSE when a
 * default does not parse (a fault of the table, which its unit test rules
 * out).
 */
int hz_ini_defaults(const struct hz_ini_table *t, void *conf);

/*
 * Set [SECTION] KEY (or its alias) = VALUE, as a file line would but with
 * no file and line to name (a command-line override; a key given twice is
 * not checked). On error ERR (ERRLEN bytes, may be NULL) holds the table's
 * wording. Returns HZ_INI_OK, HZ_INI_EPARSE or HZ_INI_ENOMEM.
 */
int hz_ini_set(const struct hz_ini_table *t, void *conf, const char *section, const char *key,
               const char *value, char *err, size_t errlen);

/*
 * Read the file PATH over what CONF holds (normally its defaults). On
 * error CONF is partly set and ERR (ERRLEN bytes, may be NULL) holds one
 * line "PATH:LINE: message", or "PATH: message" when no line applies.
 * Returns HZ_INI_OK, HZ_INI_EIO, HZ_INI_EPARSE or HZ_INI_ENOMEM.
 */
int hz_ini_load(const struct hz_ini_table *t, void *conf, const char *path, char *err,
                size_t errlen);

/* As hz_ini_load, from the NUL-terminated TEXT; NAME stands for the file
 * in messages. */
int hz_ini_load_string(const struct hz_ini_table *t, void *conf, const char *name,
                       const char *text, char *err, size_t errlen);

/*
 * After a reload: copy the options marked reload from NEXT into CUR. The
 * options that differ but are not reloadable are named, comma-separated
 * "section.key", in NAMES (NAMESLEN bytes, may be NULL). Returns how many
 * such options differ. A reloadable option must live in the struct (not a
 * heap string, nor an HZ_INI_CUSTOM without offset and size); one that
 * does not is counted as needing a restart.
 */
int hz_ini_apply_reload(const struct hz_ini_table *t, void *cur, const void *next,
                        char *names, size_t nameslen);

/*
 * The table for --help, one option a line:
 *   [S] K (TYPE BOUNDS, default "DEF"): HELP[ (SIGHUP reloads)][ (also read as ALIAS)]
 * TYPE is string, int, number, size or enum; BOUNDS " MIN..MAX" for the
 * numeric types (integers in full, numbers with %g).
 */
void hz_ini_print_help(const struct hz_ini_table *t, FILE *out);

/* The effective values of CONF as an INI file ("[S]", "K = VALUE"; a blank
 * line between sections). HZ_INI_CUSTOM options are left out. */
void hz_ini_print(const struct hz_ini_table *t, const void *conf, FILE *out);

/* Free CONF's heap strings (the struct itself is the caller's). */
void hz_ini_free(const struct hz_ini_table *t, void *conf);

/* Static text for an enum hz_ini_err. */
const char *hz_ini_strerror(int err);

#endif
