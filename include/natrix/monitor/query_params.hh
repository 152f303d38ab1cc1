#pragma once
// A decoded URL query string ("a=1&b=x+y&c"), in order, read the way
// nats-server 2.9.10 reads it (Go's url.ParseQuery and strconv). get()
// returns the first value of a key, as Go's url.Values.Get does. Plain data;
// any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace natrix::monitor {

class query_params {
public:
    // Never fails, as Go's URL.Query(): a pair with a malformed percent
    // escape, or with a ';' anywhere in it, is left out.
    static query_params parse(std::string_view query);

    std::optional<std::string_view> get(std::string_view key) const;
    bool has(std::string_view key) const { return get(key).has_value(); }
    const std::vector<std::pair<std::string, std::string>>& items() const noexcept {
        return items_;
    }

    // Go's strconv.Atoi on the first value: nullopt when absent or empty;
    // false with nats-server's message in *error ("Error decoding int for
    // 'limit': strconv.Atoi: parsing \"x\": invalid syntax") otherwise.
    bool get_int(std::string_view key, std::optional<long long>* out, std::string* error) const;
    // Go's strconv.ParseUint(v, 10, 64), as nats-server reads `cid`: no sign
    // accepted ("Error decoding uint64 for 'cid': strconv.ParseUint: ...").
    bool get_uint64(std::string_view key, std::optional<std::uint64_t>* out,
                    std::string* error) const;
    // Go's strconv.ParseBool (1 t T TRUE true True 0 f F FALSE false False).
    bool get_bool(std::string_view key, std::optional<bool>* out, std::string* error) const;
    // `offset` and `limit` as nats-server's /connz and /subsz read them: a
    // value that is not an int is an error; a negative offset reads as 0 and
    // a limit <= 0 as the default (*limit on entry); absent ones leave
    // *offset/*limit unchanged.
    bool get_paging(std::size_t* offset, std::size_t* limit, std::string* error) const;

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

} // namespace natrix::monitor
