#!/bin/sh
# Test certificates for the TLS suites, made fresh in DIR with openssl(1):
#   ca.pem            the CA every good certificate chains to (EC P-256)
#   other-ca.pem      an unrelated CA
#   server.pem/.key   CN=localhost, SANs localhost and 127.0.0.1
#   server2.pem/.key  the same names, another key (reload tests)
#   expired.pem/.key  server names, valid only in 2020
#   alice.pem/.key    client, email SAN alice@example.com, subject CN=alice,O=Acme
#   bob.pem/.key      client, DNS SAN bob.example.com
#   nobody.pem/.key   client, no SAN, subject CN=nobody
#   old-alice.pem     client alice, valid only in 2020
#   stranger.pem/.key client signed by other-ca
# usage: tls_certs.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() {
    key "$1"
    openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" 2>/dev/null
}
# sign NAME SUBJECT SAN CA [STARTDATE ENDDATE]
sign() {
    [ -f "$1.key" ] || key "$1"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\n%s\n' "$3" > "$1.ext"
    if [ $# -ge 6 ]; then
        # openssl ca takes explicit dates (x509 -req cannot backdate).
        mkdir -p "ca-$4"
        : > "ca-$4/index.txt"
        [ -f "ca-$4/serial" ] || echo 1000 > "ca-$4/serial"
        cat > "ca-$4/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
dir = ca-$4
database = ca-$4/index.txt
serial = ca-$4/serial
new_certs_dir = ca-$4
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
        openssl ca -batch -config "ca-$4/ca.cnf" -cert "$4.pem" -keyfile "$4.key" \
            -in "$1.csr" -out "$1.pem" -startdate "$5" -enddate "$6" -extfile "$1.ext" \
            -notext >/dev/null 2>&1
    else
        openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial \
            -out "$1.pem" -days 30 -extfile "$1.ext" 2>/dev/null
    fi
}
ca ca "natrix test CA"
ca other-ca "some other CA"
sign server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1" ca
sign server2 "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1" ca
sign expired "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1" ca 20200101000000Z 20200102000000Z
sign alice "/O=Acme/CN=alice" "subjectAltName=email:alice@example.com" ca
sign bob "/CN=bob" "subjectAltName=DNS:bob.example.com" ca
sign nobody "/CN=nobody" "keyUsage=digitalSignature" ca
cp alice.key old-alice.key
sign old-alice "/O=Acme/CN=alice" "subjectAltName=email:alice@example.com" ca 20200101000000Z 20200102000000Z
sign stranger "/CN=stranger" "subjectAltName=email:alice@example.com" other-ca
rm -f ./*.csr ./*.ext
