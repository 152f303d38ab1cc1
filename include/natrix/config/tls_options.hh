#pragma once
// The names a `tls {}` block uses (nats-server's, from Go's crypto/tls) in
// OpenSSL's terms. Pure functions; any thread. False with the unknown or
// insecure name in *why.
#include <string>
#include <vector>

namespace natrix::config {

// cipher_suites -> an OpenSSL TLS 1.2 cipher list (TLS 1.3 names are
// accepted and ignored, as Go does not let them be chosen).
bool openssl_cipher_list(const std::vector<std::string>& go_names, std::string* out,
                         std::string* why);
// curve_preferences -> an OpenSSL groups list.
bool openssl_groups(const std::vector<std::string>& go_names, std::string* out, std::string* why);

} // namespace natrix::config
