#!/usr/bin/env bash
# test/integration/soak_short.sh: bench/soak.sh for 20 s with 8 clients, on
# the installed chronicle (run as root). Its invariants are the checks:
# pgbench ran to the end and the server logged no error other than 40001;
# stamps and versions in order; as_of equals the tracked tables; answers
# about a past time unchanged; read() gapless; consumer groups exactly once;
# no backend crashed (see bench/soak.sh). The report goes to
# $LOGDIR/soak-short.txt (dev/test's log directory), not to bench/results.
# Knobs: SOAK_SECONDS (20), SOAK_CLIENTS (8), PGPORT_START (61000),
# CHRONICLE_SOAK_DIR (/tmp/chronicle-soak-short).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export SOAK_SECONDS=${SOAK_SECONDS:-20} SOAK_CLIENTS=${SOAK_CLIENTS:-8} SOAK_BUILD=0
export SOAK_OUT=${LOGDIR:-/tmp}/soak-short.txt
export CHRONICLE_SOAK_DIR=${CHRONICLE_SOAK_DIR:-/tmp/chronicle-soak-short}
exec bash "$ROOT/bench/soak.sh"
