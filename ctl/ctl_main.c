/*
 * ctl_main.c: hazgate-ctl's command table and global options.
 *
 *   hazgate-ctl [-d CONNINFO] COMMAND [ARGS...]
 */
#include "config.h"
#include "ctl/ctl.h"

#include <stdio.h>
#include <string.h>

const char *ctl_conninfo;

struct ctl_command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
};

static const struct ctl_command commands[] = {
    { "migrate", ctl_migrate_main, "apply pending schema migrations" },
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: hazgate-ctl [-d CONNINFO] COMMAND [ARGS...]\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nWithout -d, the connection comes from libpq's PG* variables.\n"
                 "Exit codes: 0 success, 1 failure, 2 bad arguments.\n");
}

PGconn *
ctl_connect(const char *conninfo)
{
    if (!conninfo)
        conninfo = ctl_conninfo ? ctl_conninfo : "";
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "hazgate-ctl: cannot connect to PostgreSQL: %s",
                PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
    return conn;
}

int
main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            ctl_conninfo = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CTL_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("hazgate-ctl %s\n", PACKAGE_VERSION);
            return CTL_OK;
        } else {
            fprintf(stderr, "hazgate-ctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return CTL_EUSAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CTL_EUSAGE;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].main(argc - i, argv + i);
    fprintf(stderr, "hazgate-ctl: unknown command '%s' (try hazgate-ctl --help)\n", argv[i]);
    return CTL_EUSAGE;
}
