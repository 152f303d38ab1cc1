#include <natrix/io/backend.hh>

namespace natrix::io {

const char* to_string(backend_kind k) noexcept {
    switch (k) {
    case backend_kind::uring:
        return "io_uring";
    case backend_kind::epoll:
        return "epoll";
    }
    return "?";
}

} // namespace natrix::io
