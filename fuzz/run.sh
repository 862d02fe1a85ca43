#!/usr/bin/env bash
# Run a fuzz target: ./fuzz/run.sh <store|plan> [libFuzzer args...]
# Uses `cargo +nightly fuzz run` when cargo-fuzz is installed; otherwise builds the same binary
# with the flags cargo-fuzz passes (SanitizerCoverage + AddressSanitizer, debug assertions,
# overflow checks) and runs it directly. New inputs go to fuzz/corpus-work/<target> (ignored);
# the committed corpus fuzz/corpus/<target> is read-only seed material.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: run.sh <store|plan> [libfuzzer args]}; shift
dict=(); [ -f "$target.dict" ] && dict=(-dict="$target.dict")
mkdir -p "corpus-work/$target" artifacts
# Own target directory (instrumented builds must not mix with the workspace's, and the binary
# path below relies on it) and the workspace's dependency versions on the first run.
export CARGO_TARGET_DIR="$PWD/target"
[ -f Cargo.lock ] || cp ../Cargo.lock Cargo.lock
if cargo +nightly fuzz --help >/dev/null 2>&1; then
  exec cargo +nightly fuzz run "$target" "corpus-work/$target" "corpus/$target" -- "${dict[@]}" "$@"
fi
triple=x86_64-unknown-linux-gnu
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Zsanitizer=address \
-Cdebug-assertions -Coverflow-checks" \
  cargo +nightly build -q --release --target "$triple" --bin "$target"
exec "target/$triple/release/$target" -artifact_prefix="artifacts/$target-" \
  "${dict[@]}" "corpus-work/$target" "corpus/$target" "$@"
