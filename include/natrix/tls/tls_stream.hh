#pragma once
// One server-side TLS connection over memory BIOs: ciphertext from the
// socket goes in, plaintext comes out, and the other way round. The socket
// stays the I/O backend's (io_uring or epoll); this only transforms bytes.
//
// Owned by its session (through shared_ptr: a handshake step may run on an
// auth worker thread while the shard waits for it). One thread at a time:
// the shard hands it to a worker for a handshake step and takes it back.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/tls/tls_context.hh>

typedef struct ssl_st SSL;

namespace natrix::tls {

// Who the client's certificate says it is, in nats-server's matching order
// (brief §3.2): email SANs, DNS SANs, URI SANs, then the subject DN in
// RFC 2253 form.
struct peer_identity {
    std::vector<std::string> emails, dns, uris;
    std::string subject; // RFC 2253, e.g. "CN=alice,O=Acme"
    bool has_cert = false;
    std::vector<std::string> candidates() const; // in matching order
};

class tls_stream {
public:
    explicit tls_stream(std::shared_ptr<const tls_context> ctx);
    // A connection whose handshake is done (a route or gateway the control
    // plane greeted over the socket): it moves onto memory BIOs here and
    // takes ownership of `ssl`, which must hold no unread record.
    static std::shared_ptr<tls_stream> adopt(SSL* ssl, std::shared_ptr<const tls_context> ctx);
    ~tls_stream();
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    enum class step { more, done, failed };
    // Ciphertext in; runs the handshake as far as it goes; what must go to
    // the peer is appended to `out`. On `failed`, *why says why (and `out`
    // may hold an alert worth sending).
    step handshake(std::string_view in, std::string& out, std::string* why);
    bool established() const noexcept { return established_; }

    // After the handshake. Ciphertext in, plaintext appended to `plain`;
    // false when the stream is broken or the peer closed (close_notify).
    bool decrypt(std::string_view in, std::string& plain, std::string* why);
    // Plaintext in, TLS records appended to `out`.
    bool encrypt(std::string_view plain, std::string& out);
    // Records OpenSSL wrote on its own (an alert, a reply to a KeyUpdate).
    bool has_output() const noexcept;
    void take_output(std::string& out);

    const peer_identity& peer() const noexcept { return peer_; }
    // Lowercase hex SHA-256 of the peer certificate's SubjectPublicKeyInfo ("" if none).
    const std::string& peer_spki_sha256() const noexcept { return spki_; }
    std::string version() const;
    std::string cipher() const;

private:
    tls_stream() = default;
    void drain(std::string& out);
    void read_peer();

    std::shared_ptr<const tls_context> ctx_;
    SSL* ssl_ = nullptr;
    bool established_ = false;
    peer_identity peer_;
    std::string spki_;
};

} // namespace natrix::tls
