#pragma once
// A decoded URL query string ("a=1&b=x+y&c"), in order. get() returns the
// first value of a key, as Go's url.Values.Get does. Plain data; any thread.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace natrix::monitor {

class query_params {
public:
    // False (and *error set) on a malformed percent escape.
    static bool parse(std::string_view query, query_params* out, std::string* error = nullptr);

    std::optional<std::string_view> get(std::string_view key) const;
    bool has(std::string_view key) const { return get(key).has_value(); }
    const std::vector<std::pair<std::string, std::string>>& items() const noexcept {
        return items_;
    }

    // Go's strconv.Atoi on the first value: nullopt when absent or empty;
    // false with nats-server's message in *error when not an integer.
    bool get_int(std::string_view key, std::optional<long long>* out, std::string* error) const;
    // Go's strconv.ParseBool (1 t T TRUE true True 0 f F FALSE false False).
    bool get_bool(std::string_view key, std::optional<bool>* out, std::string* error) const;
    // `offset` and `limit` as /connz and /subsz read them: negative values are
    // errors, absent ones leave *offset/*limit unchanged, limit=0 keeps the default.
    bool get_paging(std::size_t* offset, std::size_t* limit, std::string* error) const;

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

} // namespace natrix::monitor
