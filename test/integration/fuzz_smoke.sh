#!/usr/bin/env bash
# test/integration/fuzz_smoke.sh: every libFuzzer target of src/core
# (test/fuzz) built with ASan + UBSan and run for 10 seconds over its corpus;
# one check per target. Longer runs: test/fuzz/run.sh (see its README).
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$ROOT/test/integration/common.bash"

out=$(FUZZ_SECONDS=${FUZZ_SECONDS:-$([ "${CI:-}" = true ] && echo 5 || echo 10)} FUZZ_OUT="$ROOT/build/fuzz" bash "$ROOT/test/fuzz/run.sh" 2>&1)
rc=$?
targets=$(echo "$out" | grep -cE '^(not )?ok - ')
while IFS= read -r line; do
  case "$line" in
    "ok - "*) ok "fuzz ${line#ok - }" ;;
    "not ok - "*) not_ok "fuzz ${line#not ok - }" ;;
    *" passed, "*" failed") ;;
    *) echo "$line" ;;
  esac
done <<<"$out"
[ "$targets" -gt 0 ] || not_ok "test/fuzz/run.sh ran no target"
[ "$rc" = 0 ] || [ "$IT_FAILED" -gt 0 ] || not_ok "test/fuzz/run.sh exited $rc"
finish
