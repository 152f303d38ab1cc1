#pragma once
// The one exception natrix-bench throws: a failure that ends a client (cannot connect, server
// -ERR, connection closed, protocol garbage). Each client thread catches it and records the text.
#include <stdexcept>
#include <string>

namespace natrix::bench_client {

struct bench_error : std::runtime_error {
    explicit bench_error(const std::string& what)
        : std::runtime_error(what) {}
};

} // namespace natrix::bench_client
