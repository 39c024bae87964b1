#!/usr/bin/env bash
# usage: pyro-objects certs [DIR] [HOST ...]  (certificates for mutual TLS, one directory per machine)
#   DIR/ca/         ca.crt ca.key: the CA. Stays here; whoever holds ca.key can mint certificates.
#   DIR/HOST/       ca.crt server.crt server.key: copy to HOST and set TLS_DIR to it there. A HOST
#                   is a name or an IP; NAME,IP,... gives one machine a certificate for each.
#   DIR/client/     ca.crt client.crt client.key: for machines that only run the client.
#   DIR/localhost/  (when no HOST is given) servers and the client on this machine: server.*
#                   valid for localhost, 127.0.0.1, ::1 and this machine's name, plus client.*.
# Certificates carry their role in the subject (OU=server or OU=client): only servers may
# change the name server's registry. Re-running keeps the CA and existing certificates and adds
# what is missing; delete a HOST's directory to reissue it.
set -euo pipefail
dir="${1:-certs}"
shift || true
command -v openssl >/dev/null || { echo "error: openssl is not installed" >&2; exit 2; }
for host in "$@"; do  # each names a directory too
    if [[ ! "$host" =~ ^[A-Za-z0-9:][A-Za-z0-9.:-]*(,[A-Za-z0-9.:-]+)*$ || "${host%%,*}" =~ ^(ca|client)$ ]]; then
        echo "error: '$host' is not a host name or address (nor NAME,ADDRESS,...)" >&2
        exit 2
    fi
done
umask 077
mkdir -p "$dir"
cd "$dir"
days=825

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

issue() {  # issue DIR ROLE COMMON-NAME EXTENDED-KEY-USAGE SUBJECT-ALT-NAMES
    local out=$1 role=$2
    mkdir -p "$out"
    key "$out/$role.key"
    openssl req -new -key "$out/$role.key" -out "$out/$role.csr" \
        -subj "/O=pyro-objects/OU=$role/CN=$3"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=$4" "subjectAltName=$5" "subjectKeyIdentifier=hash" \
        "authorityKeyIdentifier=keyid,issuer" > "$out/$role.ext"
    openssl x509 -req -in "$out/$role.csr" -CA ca/ca.crt -CAkey ca/ca.key -CAcreateserial \
        -out "$out/$role.crt" -days "$days" -extfile "$out/$role.ext" 2>/dev/null
    rm -f "$out/$role.csr" "$out/$role.ext"
    cp ca/ca.crt "$out/ca.crt"
    chmod 644 "$out/ca.crt" "$out/$role.crt"
    echo "$out/: $role certificate for $3"
}

# Servers also connect as clients (to the name server, to ring neighbours): both usages.
issue_server() {  # issue_server DIR NAME...
    local out=$1 san="" name
    shift
    for name in "$@"; do
        if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then san+=",IP:$name"; else san+=",DNS:$name"; fi
    done
    issue "$out" server "$1" "serverAuth,clientAuth" "${san#,}"
}

if [[ -f ca.key && ! -d ca ]]; then  # the single-directory layout of earlier versions
    mkdir ca
    mv ca.crt ca.key ca
    [[ -f ca.srl ]] && mv ca.srl ca
    rm -f server.crt server.key client.crt client.key
    echo "moved the existing CA to $(pwd)/ca/; its old server and client certificates (without a role) are replaced"
fi
if [[ ! -f ca/ca.key ]]; then
    mkdir -p ca
    key ca/ca.key
    openssl req -x509 -new -key ca/ca.key -out ca/ca.crt -days "$days" \
        -subj "/O=pyro-objects/CN=pyro-objects CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
    chmod 644 ca/ca.crt
    echo "ca/: a new CA (keep ca.key on this machine)"
fi

# A client also serves: a chat subscriber's daemon presents it to the chat server calling back,
# which checks its role (OU=client), not its name (every client host has the same one).
[[ -f client/client.key ]] || issue client client client "clientAuth,serverAuth" "DNS:pyro-client"

if [[ $# -eq 0 ]]; then
    if [[ ! -f localhost/server.key ]]; then
        issue_server localhost localhost 127.0.0.1 ::1 "$(hostname)"
        cp -p client/client.crt client/client.key localhost/
    fi
    echo "this machine: export TLS_DIR=$(pwd)/localhost"
fi
for host in "$@"; do
    IFS=, read -ra names <<< "$host"
    [[ -f "${names[0]}/server.key" ]] || issue_server "${names[0]}" "${names[@]}"
done
for host in "$@"; do
    echo "on ${host%%,*}: copy $(pwd)/${host%%,*}/ there, then export TLS_DIR=<that directory>"
done
[[ $# -eq 0 ]] || echo "on client machines: copy $(pwd)/client/ there, then export TLS_DIR=<that directory>"
