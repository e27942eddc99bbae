/*
 * hz_cli.c - the daemons' common command line (hz_cli.h), on getopt_long.
 */
#include "common/hz_cli.h"

#include <getopt.h>

int
hz_cli_parse(int argc, char **argv, const char *prog, const char *version,
             void (*usage)(FILE *out), const char **path, bool *check)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*path = NULL;
	*check = false;
	while ((c = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': *path = optarg; break;
		case 'C': *check = true; break;
		case 'V': printf("%s %s\n", prog, version); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !*path) {
		fprintf(stderr, "%s: %s\n", prog, *path ? "unexpected argument" : "-c FILE is required");
		usage(stderr);
		return 2;
	}
	return -1;
}
