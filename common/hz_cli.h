/*
 * hz_cli.h - the daemons' common command line (hz_cli.c): `-c FILE`,
 * `--check-config`, `-V/--version`, `-h/--help`. hazgate, hazgate-web and
 * hazgate-jt808 read it the same way.
 */
#ifndef HAZGATE_HZ_CLI_H
#define HAZGATE_HZ_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Parse argv. On `-c FILE` (and nothing else but --check-config) sets
 * *path and *check and returns -1: the program goes on. Otherwise returns
 * the exit code main returns: 0 after printing "PROG VERSION" (--version)
 * or usage(stdout) (--help); 2 after a usage error, said on stderr
 * ("PROG: ...") followed by usage(stderr). */
int hz_cli_parse(int argc, char **argv, const char *prog, const char *version,
                 void (*usage)(FILE *out), const char **path, bool *check);

#endif
