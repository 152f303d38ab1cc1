#pragma once
// An OpenSSL server context made from a `tls {}` block: certificate chain,
// key, CA, client-certificate verification, TLS 1.2 floor, cipher suites and
// curves (nats-server's Go names translated), no session tickets (every
// handshake is a full one, as nats-server's). Loading checks everything a
// bad file could break, so that a config error is reported at start, not at
// the first client.
//
// Built on the control thread (start, reload) and immutable after: shards
// and the handshake workers share it through shared_ptr<const tls_context>;
// OpenSSL's SSL_CTX is safe for concurrent SSL_new.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/tls/tls_config.hh>

typedef struct ssl_ctx_st SSL_CTX;

namespace natrix::tls {

class tls_context {
public:
    // Null with a reason an operator can act on (which file, what is wrong).
    static std::shared_ptr<const tls_context> load(const tls_config& c, std::string* why) {
        return make(c, true, why);
    }
    // The dialling side of a route or gateway: our certificate (mutual TLS)
    // and the CA that verifies the peer, unless `insecure`.
    static std::shared_ptr<const tls_context> load_client(const tls_config& c, std::string* why) {
        return make(c, false, why);
    }
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    SSL_CTX* native() const noexcept { return ctx_; }
    const tls_config& config() const noexcept { return cfg_; }

private:
    static std::shared_ptr<const tls_context> make(const tls_config& c, bool server,
                                                   std::string* why);
    tls_context(SSL_CTX* ctx, tls_config c)
        : ctx_(ctx)
        , cfg_(std::move(c)) {}
    SSL_CTX* ctx_;
    tls_config cfg_;
};

} // namespace natrix::tls
