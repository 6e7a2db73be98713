#!/usr/bin/env bash
# test/fuzz/run.sh: build the libFuzzer targets of src/core (test/fuzz/fuzz_*.cpp,
# with AddressSanitizer and UBSan) and run each for FUZZ_SECONDS over its
# corpus in test/fuzz/corpus/<name>/. Prints one "ok"/"not ok" line per
# target and "N passed, M failed" last; exits non-zero on any finding.
#
#   test/fuzz/run.sh                    every target, 60 s each
#   FUZZ_SECONDS=600 test/fuzz/run.sh json merge_patch
#   FUZZ_MERGE=1 test/fuzz/run.sh       then add inputs reaching new coverage to the corpus
#
# Findings (the crashing input, minimized when FUZZ_MINIMIZE=1) go to
# $FUZZ_OUT/findings (default build/fuzz/findings); the log of each run is
# $FUZZ_OUT/<name>.log. Inputs found during a run go to $FUZZ_OUT/corpus/<name>
# (emptied when the next run starts) and reach the repository's corpus only
# with FUZZ_MERGE=1.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-$ROOT/build/fuzz}
CXX=${FUZZ_CXX:-clang++}
CXXFLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all -I"$ROOT/src/core" -I"$HERE")
SAN=address,undefined

# install_missing installs clang, its fuzzer runtime and Boost.Date_Time when
# they are missing (Debian; needs root).
install_missing() {
  local missing=()
  command -v "$CXX" >/dev/null || missing+=(clang)
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
  [ -e /usr/include/boost/date_time/period.hpp ] || missing+=(libboost-date-time-dev)
  [ ${#missing[@]} = 0 ] && return 0
  echo "installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# newer OUTPUT INPUT... tells whether OUTPUT is missing or older than an input.
newer() {
  local out=$1 f
  shift
  [ -e "$out" ] || return 0
  for f in "$@"; do [ "$f" -nt "$out" ] && return 0; done
  return 1
}

# build_core compiles src/core once, instrumented for the fuzzer.
build_core() {
  local src obj
  mkdir -p "$OUT/obj"
  for src in "$ROOT"/src/core/*.cpp; do
    obj="$OUT/obj/$(basename "$src" .cpp).o"
    if newer "$obj" "$src" "$ROOT"/src/core/*.hpp; then
      "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer-no-link,$SAN -c "$src" -o "$obj" || return 1
    fi
  done
}

# build_target NAME links test/fuzz/fuzz_NAME.cpp with src/core.
build_target() {
  local bin="$OUT/fuzz_$1"
  if newer "$bin" "$HERE/fuzz_$1.cpp" "$HERE/fuzz_util.hpp" "$OUT"/obj/*.o; then
    "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer,$SAN "$HERE/fuzz_$1.cpp" "$OUT"/obj/*.o -o "$bin" || return 1
  fi
}

# run_target NAME fuzzes one target; returns non-zero on a finding.
run_target() {
  local name=$1 bin="$OUT/fuzz_$1" log="$OUT/$1.log" corpus="$HERE/corpus/$1" scratch="$OUT/corpus/$1"
  rm -rf "$scratch"
  mkdir -p "$scratch" "$corpus" "$OUT/findings"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" "$scratch" "$corpus" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/findings/$name-" -print_final_stats=1 >"$log" 2>&1
  local rc=$?
  local runs secs
  runs=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/p' "$log" | tail -1)
  secs=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/p' "$log" | tail -1)
  if [ "$rc" = 0 ] && [ -n "$runs" ]; then
    echo "ok - $name: $runs runs in ${secs}s ($((runs / (secs > 0 ? secs : 1))) exec/s)," \
      "corpus $(ls "$corpus" | wc -l) files"
  else
    echo "not ok - $name: exit $rc, log $log"
    # The violated property with its decoded input, or the sanitizer's report.
    awk '/property violated/ { p = 1 } p && (/^$/ || /^==[0-9]+==/) { p = 0 }
         p || /ERROR: AddressSanitizer|runtime error:|^SUMMARY:|Test unit written|libFuzzer: (timeout|out-of-memory)/' \
      "$log" | head -30 | sed 's/^/#   /'
    local crash
    crash=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -1)
    if [ -n "$crash" ] && [ "${FUZZ_MINIMIZE:-0}" = 1 ]; then
      "$bin" -minimize_crash=1 -max_total_time=30 -exact_artifact_path="$crash.min" "$crash" >"$log.min" 2>&1
      echo "#   minimized: $crash.min"
    fi
    return 1
  fi
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    # -merge=1 keeps every file already in the corpus (the hand-written
    # seeds among them) and adds the inputs found that reach new edges
    # (-use_counters=0: hit counts would keep several times more files).
    "$bin" -merge=1 -use_counters=0 -max_len=4096 "$corpus" "$scratch" >"$log.merge" 2>&1 || return 1
    echo "#   $name: corpus merged to $(ls "$corpus" | wc -l) files"
  fi
}

install_missing || { echo "cannot install the fuzzing toolchain"; echo "0 passed, 1 failed"; exit 1; }
if [ $# -gt 0 ]; then NAMES=("$@"); else
  NAMES=()
  for f in "$HERE"/fuzz_*.cpp; do NAMES+=("$(basename "$f" .cpp | sed 's/^fuzz_//')"); done
fi
PASSED=0
FAILED=0
if ! build_core; then
  echo "not ok - building src/core for fuzzing"
  echo "0 passed, ${#NAMES[@]} failed"
  exit 1
fi
for name in "${NAMES[@]}"; do
  if ! build_target "$name"; then
    echo "not ok - $name: does not build"
    FAILED=$((FAILED + 1))
  elif run_target "$name"; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
  fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
