/*
 * ctl_registry.h: the fleet registry's commands (ctl_registry.c) as
 * ctl_vehicles.c and ctl_engine.c call them.
 */
#ifndef HAZGATE_CTL_REGISTRY_H
#define HAZGATE_CTL_REGISTRY_H

#include "ctl/ctl.h"
#include "ctl/ctl_regload.h"

/* `vehicles import|set|show ...`: argv[0] is "import", "set" or "show". */
int ctl_registry_main(int argc, char **argv);

/* The registry entries of plate, or (plate NULL) of every registered
 * vehicle with no stored fix, in co->format. CTL_OK, or CTL_EFAIL after
 * saying why (no such plate). */
int ctl_registry_list(PGconn *conn, const struct ctl_common *co, const char *plate);

/* Read and check a registry file: CTL_OK and *f (ctl_regfile_free), or
 * CTL_EUSAGE after naming the file, line and column under cmd. */
int ctl_registry_file(const char *cmd, const char *path, struct ctl_regfile *f);

#endif
