#pragma once
// What a client session on TLS carries: where its handshake is, the stream
// that turns ciphertext into plaintext and back, and the bytes that wait
// while a handshake step runs on a worker (decision 0015).
//
// Lives in its session, on the session's shard; only that thread touches it,
// except `stream`, which a worker holds (alone) while `busy`.
#include <memory>
#include <string>

#include <natrix/broker/message.hh>
#include <natrix/tls/tls_stream.hh>

namespace natrix::broker {

struct tls_link {
    enum class phase : unsigned char {
        sniff,       // INFO went out in plain text; the first byte says TLS or not (allow_non_tls)
        wait_hello,  // handshake_first auto: a ClientHello within the delay, or INFO
        handshake,   // records are being exchanged
        established, // plaintext flows through `stream`
    };
    phase at = phase::handshake;
    std::shared_ptr<tls::tls_stream> stream;
    bool busy = false;       // a handshake step is on a worker
    bool info_after = false; // handshake_first: INFO goes inside TLS once established
    std::string pending_in;  // ciphertext that arrived while busy
    std::string raw_out;     // handshake records (and alerts) for the peer, never encrypted again
    clock::time_point deadline; // the handshake (or the auto wait) ends by then
};

} // namespace natrix::broker
