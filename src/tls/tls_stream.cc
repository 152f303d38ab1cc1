// Server TLS over memory BIOs: the shard (or a handshake worker) pushes the
// socket's ciphertext in and takes records out; OpenSSL never touches the fd.
#include <algorithm>
#include <cstdio>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <natrix/tls/tls_stream.hh>

namespace natrix::tls {

namespace {

std::string ssl_error(SSL* ssl, int rc) {
    const int e = SSL_get_error(ssl, rc);
    const unsigned long q = ERR_get_error();
    ERR_clear_error();
    if (q) {
        char buf[256];
        ERR_error_string_n(q, buf, sizeof buf);
        return buf;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return "the peer closed the TLS connection";
    return "TLS error " + std::to_string(e);
}

std::string asn1_text(const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
}

} // namespace

std::vector<std::string> peer_identity::candidates() const {
    std::vector<std::string> out;
    out.insert(out.end(), emails.begin(), emails.end());
    out.insert(out.end(), dns.begin(), dns.end());
    out.insert(out.end(), uris.begin(), uris.end());
    if (!subject.empty()) out.push_back(subject);
    return out;
}

tls_stream::tls_stream(std::shared_ptr<const tls_context> ctx)
    : ctx_(std::move(ctx))
    , ssl_(SSL_new(ctx_->native())) {
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1); // empty means "more to come", not EOF
    SSL_set_bio(ssl_, rbio, wbio);
    SSL_set_accept_state(ssl_);
}

std::shared_ptr<tls_stream> tls_stream::adopt(SSL* ssl, std::shared_ptr<const tls_context> ctx) {
    std::shared_ptr<tls_stream> t(new tls_stream());
    t->ctx_ = std::move(ctx);
    t->ssl_ = ssl;
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl, rbio, wbio); // frees the socket BIO; the fd stays open (BIO_NOCLOSE)
    t->established_ = true;
    t->read_peer();
    return t;
}

tls_stream::~tls_stream() {
    SSL_free(ssl_);
}

void tls_stream::drain(std::string& out) {
    BIO* wbio = SSL_get_wbio(ssl_);
    const std::size_t n = BIO_ctrl_pending(wbio);
    if (!n) return;
    const std::size_t at = out.size();
    out.resize(at + n);
    const int got = BIO_read(wbio, out.data() + at, static_cast<int>(n));
    out.resize(at + static_cast<std::size_t>(std::max(got, 0)));
}

tls_stream::step tls_stream::handshake(std::string_view in, std::string& out, std::string* why) {
    if (!in.empty()) BIO_write(SSL_get_rbio(ssl_), in.data(), static_cast<int>(in.size()));
    const int rc = SSL_do_handshake(ssl_);
    drain(out);
    if (rc == 1) {
        established_ = true;
        read_peer();
        static const std::vector<std::string> none;
        const auto& pinned = ctx_ ? ctx_->config().pinned_certs : none;
        if (!pinned.empty() && std::find(pinned.begin(), pinned.end(), spki_) == pinned.end()) {
            *why = "peer certificate not in the pinned set (spki sha256 " +
                   (spki_.empty() ? std::string("none") : spki_) + ")";
            return step::failed;
        }
        return step::done;
    }
    const int e = SSL_get_error(ssl_, rc);
    if (e == SSL_ERROR_WANT_READ) return step::more;
    *why = ssl_error(ssl_, rc);
    return step::failed;
}

bool tls_stream::decrypt(std::string_view in, std::string& plain, std::string* why) {
    if (!in.empty()) BIO_write(SSL_get_rbio(ssl_), in.data(), static_cast<int>(in.size()));
    for (;;) {
        const std::size_t at = plain.size();
        plain.resize(at + 16384);
        const int n = SSL_read(ssl_, plain.data() + at, 16384);
        plain.resize(at + static_cast<std::size_t>(std::max(n, 0)));
        if (n > 0) continue;
        const int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ) return true;
        *why = ssl_error(ssl_, n);
        return false;
    }
}

bool tls_stream::encrypt(std::string_view plain, std::string& out) {
    while (!plain.empty()) {
        const int chunk = static_cast<int>(std::min<std::size_t>(plain.size(), 1 << 30));
        const int n = SSL_write(ssl_, plain.data(), chunk);
        if (n <= 0) {
            ERR_clear_error();
            drain(out);
            return false;
        }
        plain.remove_prefix(static_cast<std::size_t>(n));
    }
    drain(out);
    return true;
}

bool tls_stream::has_output() const noexcept {
    return BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0;
}

void tls_stream::take_output(std::string& out) {
    drain(out);
}

void tls_stream::read_peer() {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (!cert) return;
    peer_.has_cert = true;
    if (auto* names = static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
            const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
            if (g->type == GEN_EMAIL) peer_.emails.push_back(asn1_text(g->d.rfc822Name));
            if (g->type == GEN_DNS) peer_.dns.push_back(asn1_text(g->d.dNSName));
            if (g->type == GEN_URI) peer_.uris.push_back(asn1_text(g->d.uniformResourceIdentifier));
        }
        GENERAL_NAMES_free(names);
    }
    if (BIO* b = BIO_new(BIO_s_mem())) {
        X509_NAME_print_ex(b, X509_get_subject_name(cert), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
        char* data = nullptr;
        const long n = BIO_get_mem_data(b, &data);
        if (n > 0) peer_.subject.assign(data, static_cast<std::size_t>(n));
        BIO_free(b);
    }
    unsigned char* der = nullptr;
    const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (len > 0) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(der, static_cast<std::size_t>(len), md, &mdlen, EVP_sha256(), nullptr)) {
            char hex[3];
            for (unsigned int i = 0; i < mdlen; ++i) {
                std::snprintf(hex, sizeof hex, "%02x", md[i]);
                spki_ += hex;
            }
        }
        OPENSSL_free(der);
    }
    X509_free(cert);
}

std::string tls_stream::version() const {
    return SSL_get_version(ssl_);
}

std::string tls_stream::cipher() const {
    const char* c = SSL_get_cipher_name(ssl_);
    return c ? c : "";
}

} // namespace natrix::tls
