#pragma once
// A `tls {}` block, as nats-server reads it (opts.go parseTLS; brief §3):
// certificate, key and CA files, client-certificate verification and
// mapping, the handshake timeout, cipher suites, curves, the minimum
// version, handshake_first and pinned certificates. Built by the config
// module, read by the TLS module to make an SSL_CTX. Plain data.
#include <chrono>
#include <string>
#include <vector>

namespace natrix::tls {

enum class handshake_first_mode {
    off,       // INFO in plain text, then the client starts TLS (the NATS default)
    on,        // TLS before anything (INFO goes inside TLS)
    automatic, // TLS first if a ClientHello arrives within `handshake_first_delay`
};

struct tls_config {
    bool enabled = false; // a tls block (or --tls*) was given
    std::string cert_file, key_file, ca_file;
    bool verify = false;         // require and verify a client certificate
    bool verify_and_map = false; // verify, then map the certificate to a user
    bool verify_cert_and_check_known_urls = false;
    bool insecure = false; // solicited connections only: skip verification
    std::chrono::nanoseconds timeout = std::chrono::seconds(2);
    // OpenSSL names, translated from nats-server's Go names at load.
    std::string cipher_list;  // TLS 1.2 suites ("" = OpenSSL's secure default)
    std::string groups;       // curves, e.g. "X25519:P-256"
    int min_version = 0x0303; // TLS 1.2, nats-server's floor
    handshake_first_mode handshake_first = handshake_first_mode::off;
    std::chrono::nanoseconds handshake_first_delay = std::chrono::milliseconds(50);
    std::vector<std::string> pinned_certs; // lowercase hex SHA-256 of the SPKI
    int connection_rate_limit = 0;         // new TLS connections per second, 0 = none

    bool requires_client_cert() const noexcept { return verify || verify_and_map; }
};

} // namespace natrix::tls
