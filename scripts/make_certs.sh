#!/usr/bin/env bash
# Create a CA and the certificates for mutual TLS: scripts/make_certs.sh [DIR] [HOST ...]
#   DIR (default: certs) receives ca.crt/ca.key, server.crt/key (presented by every server, name
#   server and ring node; valid for localhost, 127.0.0.1, this machine's name and each HOST given,
#   a name or an IP), client.crt/key (presented by pyro_client.py). Then: export TLS_DIR=DIR.
# Keep ca.key private: whoever holds it can mint certificates that the system accepts.
set -euo pipefail
dir="${1:-certs}"
shift || true
command -v openssl >/dev/null || { echo "error: openssl is not installed" >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"
days=825
san="DNS:localhost,IP:127.0.0.1,DNS:$(hostname)"
for host in "$@"; do
    if [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]]; then san+=",IP:$host"; else san+=",DNS:$host"; fi
done
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -out ca.crt -days "$days" -subj "/CN=pyro-objects CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
sign() {  # sign ROLE EXTENDED-KEY-USAGE SUBJECT-ALT-NAMES
    key "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=pyro-objects $1"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=$2" "subjectAltName=$3" "subjectKeyIdentifier=hash" \
        "authorityKeyIdentifier=keyid,issuer" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
        -days "$days" -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
# Servers also connect as clients (to the name server, to ring neighbours): both usages.
sign server "serverAuth,clientAuth" "$san"
sign client "clientAuth" "DNS:pyro-client"
chmod 600 ./*.key
echo "certificates in $(pwd): ca.crt server.crt server.key client.crt client.key"
echo "turn TLS on for every process with: export TLS_DIR=$(pwd)"
