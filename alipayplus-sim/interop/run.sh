#!/usr/bin/env bash
# Interop test: Ant International's official Python ACQP package against `cargo xtask sim --tls`.
#
#   bash alipayplus-sim/interop/run.sh
#
# Installs the package from PyPI into a virtual environment under target/ (pinned, without its
# MCP server dependencies: its SDK modules need only its signing libraries, pinned below),
# checks the port is free, starts the simulator with TLS and runs official_python.py, which
# prints `interop: N passed, M failed`. The package dials port 443 whatever the URL says, so
# the simulator listens on 127.0.0.1:443 (root, as in CI). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=alipayplus-sim/interop
port=443
host=127.0.0.1

target=${CARGO_TARGET_DIR:-target}
venv=$target/interop-venv
python=${PYTHON:-python3}

# The package (pinned) and exactly the libraries its SDK code imports (pinned; read from its
# metadata and source: cryptography and rsa in sdk/tools/signature_tool.py, with their own
# dependencies cffi/pycparser and pyasn1). Its `mcp` and `pycryptodome` requirements serve the
# MCP server and nothing the SDK uses, so --no-deps leaves them out.
packages=(
  ant-intl-alipayplus-mcp==1.0.1
  cryptography==44.0.3 cffi==2.0.0 pycparser==2.23
  rsa==4.9.1 pyasn1==0.6.1
)
# Python's venv module (Debian splits it out); install it when missing and allowed to.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  else
    echo "interop: $python has no venv/ensurepip (Debian: apt-get install python3-venv)" >&2
    echo "interop: 0 passed, 1 failed"
    exit 1
  fi
fi
stamp="$venv/.installed"
if [[ ! -x $venv/bin/python || "$(cat "$stamp" 2>/dev/null)" != "${packages[*]}" ]]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "${packages[@]}"
  echo "${packages[*]}" > "$stamp"
fi

# The port must be free: another server there would answer in the simulator's place.
if "$venv/bin/python" - "$host" "$port" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
EOF
then
  echo "interop: $host:$port is already in use; stop what listens there first" >&2
  echo "interop: 0 passed, 1 failed"
  exit 1
fi

cargo build --quiet -p xtask
log=$(mktemp)
cargo xtask sim --tls --port "$port" >"$log" 2>&1 &
sim=$!
cleanup() {
  kill "$sim" 2>/dev/null || true
  wait "$sim" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

ca=""
for _ in $(seq 1 100); do
  ca=$(sed -n 's/^  TLS CA certificate *\([^ ]*\).*/\1/p' "$log")
  [[ -n $ca ]] && grep -q '^Press Ctrl-C' "$log" && break
  if ! kill -0 "$sim" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z $ca ]] || ! grep -q '^Press Ctrl-C' "$log"; then
  echo "interop: the simulator did not start (port $port needs root):" >&2
  cat "$log" >&2
  echo "interop: 0 passed, 1 failed"
  exit 1
fi

client_id=$(sed -n 's/^  Client-Id *\([^ ]*\).*/\1/p' "$log")
keys=alipayplus-sim/keys
status=0
SSL_CERT_FILE=$ca "$venv/bin/python" "$here/official_python.py" \
  --gateway "https://$host" \
  --control "https://$host:$port" \
  --client-id "$client_id" \
  --private-key "$keys/acqp_private_pkcs1.pem" \
  --alipay-public-key "$keys/sim_public_spki.pem" || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- simulator log" >&2
  cat "$log" >&2
fi
exit "$status"
