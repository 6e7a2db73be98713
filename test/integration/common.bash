# test/integration/common.bash: shared by the integration tests
# (test/integration/*.sh). Source it after dev/lib.sh. Each test counts its
# checks with ok/not_ok and ends with `finish`, which prints the closing
# "N passed, M failed" line that dev/test reads and sets the exit code.
IT_PASSED=0
IT_FAILED=0

# check NAME EXPECTED ACTUAL: passes when ACTUAL equals EXPECTED.
check() {
  if [ "$2" == "$3" ]; then
    IT_PASSED=$((IT_PASSED + 1)); echo "ok - $1"
  else
    IT_FAILED=$((IT_FAILED + 1)); echo "not ok - $1"; echo "#   expected: $2"; echo "#   got:      $3"
  fi
}

# ok NAME / not_ok NAME [WHY]: record a check decided by the caller.
ok() { IT_PASSED=$((IT_PASSED + 1)); echo "ok - $1"; }
not_ok() { IT_FAILED=$((IT_FAILED + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "#   $2"; }

# no_crash DIR: fails when the server log of the cluster in DIR shows a
# backend killed by a signal.
no_crash() {
  if grep -q "terminated by signal" "$1/server.log" 2>/dev/null; then
    not_ok "no backend crashed in $1" "$(grep -m1 'terminated by signal' "$1/server.log")"
  else
    ok "no backend crashed in $1"
  fi
}

# finish prints the closing line and exits 0 only when nothing failed.
finish() {
  echo "$IT_PASSED passed, $IT_FAILED failed"
  [ "$IT_FAILED" = 0 ] && [ "$IT_PASSED" -gt 0 ]
  exit $?
}
