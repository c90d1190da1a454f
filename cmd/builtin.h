#ifndef MIG_BUILTIN_H
#define MIG_BUILTIN_H

/*
 * Commands built into the mig binary. Their mig-foo on the exec path is
 * a hard link to mig, so "mig foo" runs them without a second exec, and
 * mig-foo by itself still runs the same code: main looks at its name.
 */
int cmd_status(int argc, char **argv);

#endif
