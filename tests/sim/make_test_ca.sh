#!/bin/sh
# make_test_ca.sh DIR — throw-away TLS material for the simulator's HTTPS mode.
#
# Creates, with the openssl CLI:
#   DIR/ca.pem, DIR/ca-key.pem             a test CA
#   DIR/server.pem, DIR/server-key.pem     a server certificate for 127.0.0.1, ::1 and localhost
#                                          (subjectAltName), signed by that CA
#   DIR/other-ca.pem, DIR/other-ca-key.pem a second, unrelated CA (for "unknown CA" tests)
# Quiet on success; idempotent (keeps valid existing files); safe to run concurrently on the
# same DIR (flock). EC P-256 keys, so it takes well under a second.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

if command -v flock >/dev/null 2>&1; then
  exec 9>.make_test_ca.lock
  flock 9
fi

# Already there and good for at least another day? Then there is nothing to do.
if [ -s ca.pem ] && [ -s server.pem ] && [ -s server-key.pem ] && [ -s other-ca.pem ] &&
   openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1 &&
   openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1 &&
   openssl x509 -in other-ca.pem -noout -checkend 86400 >/dev/null 2>&1; then
  exit 0
fi

work=$(mktemp -d .make_test_ca.XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/openssl.log
umask 077

run() {
  if ! "$@" >>"$log" 2>&1; then
    echo "make_test_ca.sh: failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

cat >"$work/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = rc-sim throw-away test CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
sed 's/^CN = .*/CN = rc-sim unrelated test CA/' "$work/ca.cnf" >"$work/other-ca.cnf"

cat >"$work/server.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = 127.0.0.1
EOF

cat >"$work/server.ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF

ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086
run openssl req -x509 $ec -days 3650 -config "$work/ca.cnf" \
  -keyout "$work/ca-key.pem" -out "$work/ca.pem"
# shellcheck disable=SC2086
run openssl req -x509 $ec -days 3650 -config "$work/other-ca.cnf" \
  -keyout "$work/other-ca-key.pem" -out "$work/other-ca.pem"
# shellcheck disable=SC2086
run openssl req -new $ec -config "$work/server.cnf" \
  -keyout "$work/server-key.pem" -out "$work/server.csr"
run openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" \
  -CAcreateserial -CAserial "$work/ca.srl" -days 825 -sha256 -extfile "$work/server.ext" \
  -out "$work/server.pem"
run openssl verify -CAfile "$work/ca.pem" "$work/server.pem"

chmod 644 "$work/ca.pem" "$work/other-ca.pem" "$work/server.pem"
for f in ca-key.pem ca.pem other-ca-key.pem other-ca.pem server-key.pem server.pem; do
  mv -f "$work/$f" "./$f"
done
