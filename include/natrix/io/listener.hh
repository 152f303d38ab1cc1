#pragma once
// Listening sockets for the shards. Every shard binds the same address with
// SO_REUSEPORT, so the kernel spreads accepted connections over the shards.
// Called once per shard at start-up, from that shard's thread.
#include <string>

namespace natrix::io {

struct listen_result {
    int fd = -1;  // -1 on failure
    int port = 0; // the port actually bound
    std::string error;
};

// Binds host:port (an empty host or "0.0.0.0": every address). `first` is the
// shard that binds before the others: it refuses a port any other process
// holds (SO_REUSEPORT alone would let a second server share it and silently
// split the clients between the two), and it may pick the port when 0 is asked.
listen_result open_listener(const std::string& host, int port, bool first);

} // namespace natrix::io
