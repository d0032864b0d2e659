#!/usr/bin/env bash
# Instructions per signature and per verification, default backend vs the `rsa` crate alone,
# counted by callgrind (examples/op_count.rs): unlike wall-clock time, the counts do not move
# with the machine's load, so the README's "within 5% of the `rsa` crate" rows can be checked
# on a busy or noisy machine. Each case runs with N operations and with 0; the difference
# divided by N is one operation without the set-up. Needs valgrind.
#   bash alipayplus-sign/benches/op_count.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-10}
# The bench profile (thin LTO, one codegen unit): the code criterion times.
cargo build -q --profile bench -p alipayplus-sign --example op_count
bin="${CARGO_TARGET_DIR:-target}/release/examples/op_count"

count() { # op who n -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

for op in sign verify; do
  for who in ours raw; do
    per=$(( ($(count "$op" "$who" "$n") - $(count "$op" "$who" 0)) / n ))
    eval "${op}_${who}=$per"
    printf '%-6s %-4s %12d instructions per operation\n' "$op" "$who" "$per"
  done
done
awk -v so="$sign_ours" -v sr="$sign_raw" -v vo="$verify_ours" -v vr="$verify_raw" 'BEGIN {
  printf "sign:   ours / rsa crate alone = %.3fx\nverify: ours / rsa crate alone = %.3fx\n", so / sr, vo / vr }'
