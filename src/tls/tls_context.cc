// Server SSL_CTX from a tls {} block, with nats-server's defaults: TLS 1.2
// at least, full handshakes (no tickets, no session cache), and a client
// certificate required and verified against ca_file when verify is set.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <natrix/tls/tls_context.hh>

namespace natrix::tls {

namespace {

std::string ssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

} // namespace

// One context for either side of a connection: `server` accepts (clients,
// inbound routes and gateways), otherwise it dials (routes, gateways).
std::shared_ptr<const tls_context> tls_context::make(const tls_config& c, bool server,
                                                     std::string* why) {
    if (server && (c.cert_file.empty() || c.key_file.empty())) {
        *why = "missing 'cert_file' or 'key_file' in TLS configuration";
        return nullptr;
    }
    SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        *why = ssl_error();
        return nullptr;
    }
    const auto fail = [&](std::string what) {
        *why = std::move(what);
        SSL_CTX_free(ctx);
        return nullptr;
    };
    SSL_CTX_set_min_proto_version(ctx, c.min_version);
    // Full handshakes only, as nats-server (Go) does for its clients; no
    // renegotiation; no compression.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 (server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
    // NO_AUTO_CHAIN: the chain is cert_file as given. Without it OpenSSL
    // completes the chain at every handshake from the default store, which
    // reads /etc/ssl/certs (a directory scan per handshake: 0.74x nats-server's
    // handshake rate before, measured with bench/tls_handshakes.py).
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
    if (!c.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx, c.cert_file.c_str()) != 1)
            return fail("error parsing X509 certificate/key pair: cert_file '" + c.cert_file +
                        "': " + ssl_error());
        if (SSL_CTX_use_PrivateKey_file(ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
            return fail("error parsing X509 certificate/key pair: key_file '" + c.key_file +
                        "': " + ssl_error());
        if (SSL_CTX_check_private_key(ctx) != 1)
            return fail("error parsing X509 certificate/key pair: private key does not match "
                        "the certificate: " +
                        ssl_error());
    }
    if (!c.ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, c.ca_file.c_str(), nullptr) != 1)
            return fail("failed to parse root ca certificate: ca_file '" + c.ca_file +
                        "': " + ssl_error());
        if (server)
            if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(c.ca_file.c_str()))
                SSL_CTX_set_client_CA_list(ctx, names);
    } else if (!server || c.requires_client_cert()) {
        SSL_CTX_set_default_verify_paths(ctx); // peers verified against the system roots
    }
    if (server)
        SSL_CTX_set_verify(ctx,
                           c.requires_client_cert()
                               ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                               : SSL_VERIFY_NONE,
                           nullptr);
    else
        SSL_CTX_set_verify(ctx, c.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
    if (!c.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx, c.cipher_list.c_str()) != 1)
        return fail("cipher_suites: " + ssl_error());
    if (!c.groups.empty() && SSL_CTX_set1_groups_list(ctx, c.groups.c_str()) != 1)
        return fail("curve_preferences: " + ssl_error());
    return std::shared_ptr<const tls_context>(new tls_context(ctx, c));
}

tls_context::~tls_context() {
    SSL_CTX_free(ctx_);
}

} // namespace natrix::tls
