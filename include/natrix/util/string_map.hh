#pragma once
// An unordered_map keyed by std::string that string_views can look up
// without building a std::string (C++20 heterogeneous lookup): the publish
// path probes such maps with subjects it only holds as views.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace natrix::util {

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

template <typename V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

} // namespace natrix::util
