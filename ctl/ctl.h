/*
 * ctl: hazgate-ctl, the dispatchers' and auditors' tool.
 *
 * Each command lives in its own file as ctl_<command>_main(argc, argv), with
 * argv[0] the command's name. Exit codes: 0 success, 1 a failure at run time
 * (database unreachable, statement refused), 2 bad arguments or input.
 */
#ifndef HAZGATE_CTL_H
#define HAZGATE_CTL_H

#include <libpq-fe.h>

enum { CTL_OK = 0, CTL_EFAIL = 1, CTL_EUSAGE = 2 };

/* The -d CONNINFO given before the command, or NULL for libpq's PG* variables. */
extern const char *ctl_conninfo;

/* Connects (blocking) with conninfo, or ctl_conninfo when NULL; on failure
 * prints why to stderr and returns NULL. The caller PQfinish()es. */
PGconn *ctl_connect(const char *conninfo);

int ctl_migrate_main(int argc, char **argv);

#endif
