# mig.mk: database targets for a project's Makefile.
#
#   include path/to/mig.mk
#
# gives db-up, db-down, db-status, db-check (fails when anything is
# pending or wrong: the target to put before tests or a deploy),
# db-backup and db-schema. Set MIG to the mig command and MIG_FLAGS to
# its global options (say -d app.db) when mig.conf does not name them.
# MIG_FLAGS goes through the shell: quote a PostgreSQL URL, whose ? and
# & the shell reads (MIG_FLAGS = -d 'postgres://app@db/app?sslmode=require'),
# and keep its password out of it (make prints the command; ~/.pgpass
# or PGPASSWORD hold it, as for psql). MIG_DATABASE in the environment
# needs neither.
#
# Included before a Makefile's own targets, it does not make db-up the
# default goal: a plain 'make' builds what it built before.

_mig_mk_goal := $(.DEFAULT_GOAL)

MIG ?= mig
MIG_FLAGS ?=
MIG_SCHEMA ?= schema.sql

db-up:
	$(MIG) $(MIG_FLAGS) up

db-down:
	$(MIG) $(MIG_FLAGS) down

db-status:
	$(MIG) $(MIG_FLAGS) status

db-check:
	$(MIG) $(MIG_FLAGS) status --check

db-backup:
	$(MIG) $(MIG_FLAGS) backup

# the schema the migrations give, for review or a diff in version control
db-schema:
	$(MIG) $(MIG_FLAGS) sqlshow --schema > $(MIG_SCHEMA).tmp && mv $(MIG_SCHEMA).tmp $(MIG_SCHEMA)

.PHONY: db-up db-down db-status db-check db-backup db-schema

# as it was: empty, the includer's first target becomes the default
.DEFAULT_GOAL := $(_mig_mk_goal)
