#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <natrix/util/sd_notify.hh>

namespace natrix::util {

bool sd_notify(std::string_view state) noexcept {
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (!name || !*name) return false;
    const std::size_t len = std::strlen(name);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if ((name[0] != '/' && name[0] != '@') || len > sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, name, len);
    if (name[0] == '@') addr.sun_path[0] = '\0'; // abstract namespace
    const socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                  reinterpret_cast<const sockaddr*>(&addr), addr_len);
    ::close(fd);
    return sent == static_cast<ssize_t>(state.size());
}

} // namespace natrix::util
