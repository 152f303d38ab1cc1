#pragma once
// A parsed configuration tree: maps (keys in file order), arrays, strings,
// integers, floats and booleans, each with the place it came from so that
// option errors can say `file:line:col`. Built once at start-up (and on
// reload) by the control thread; immutable afterwards and safe to read from
// any thread.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace natrix::config {

// Where a key or value starts. Line and column are 1-based; the column counts
// bytes. `file` is shared by every position of one source.
struct position {
    std::shared_ptr<const std::string> file;
    std::uint32_t line = 0;
    std::uint32_t column = 0;

    // "file:line:col"; "<string>" stands in for a source without a name.
    std::string to_string() const;
};

enum class value_kind { map, array, string, integer, floating, boolean };

// "map", "array", "string", "integer", "float", "boolean".
std::string_view kind_name(value_kind kind) noexcept;

struct map_entry;

class value {
public:
    value() = default; // an empty map
    static value make_map(position pos);
    static value make_array(position pos);
    static value make_string(std::string s, position pos);
    static value make_integer(std::int64_t v, position pos);
    static value make_float(double v, position pos);
    static value make_bool(bool v, position pos);

    value_kind kind() const noexcept { return kind_; }
    bool is_map() const noexcept { return kind_ == value_kind::map; }
    bool is_array() const noexcept { return kind_ == value_kind::array; }
    bool is_string() const noexcept { return kind_ == value_kind::string; }
    bool is_integer() const noexcept { return kind_ == value_kind::integer; }
    bool is_float() const noexcept { return kind_ == value_kind::floating; }
    bool is_bool() const noexcept { return kind_ == value_kind::boolean; }

    // Accessors return an empty/zero value when the kind does not match, so
    // a caller that forgot to check reads a default instead of garbage.
    const std::string& as_string() const noexcept;
    std::int64_t as_integer() const noexcept { return kind_ == value_kind::integer ? int_ : 0; }
    double as_float() const noexcept { return kind_ == value_kind::floating ? float_ : 0.0; }
    bool as_bool() const noexcept { return kind_ == value_kind::boolean && bool_; }
    const std::vector<value>& as_array() const noexcept;
    const std::vector<map_entry>& as_map() const noexcept;

    // Map lookup by exact key; nullptr when absent or not a map.
    const value* find(std::string_view key) const noexcept;
    const map_entry* find_entry(std::string_view key) const noexcept;

    const position& pos() const noexcept { return pos_; }
    void set_pos(position pos) { pos_ = std::move(pos); }

    // Builders, used by the parser.
    std::vector<value>& array_items() noexcept { return array_; }
    std::vector<map_entry>& map_entries() noexcept { return map_; }
    // Adds an entry; a repeated key replaces the earlier entry in place
    // (last one wins, as in nats-server) and keeps its original order.
    void set(map_entry entry);
    void set(std::string key, position key_pos, value v);

private:
    value_kind kind_ = value_kind::map;
    bool bool_ = false;
    std::int64_t int_ = 0;
    double float_ = 0.0;
    std::string str_;
    std::vector<value> array_;
    std::vector<map_entry> map_;
    position pos_;
};

struct map_entry {
    std::string key;
    position key_pos;
    value val;
    // True once a `$name` reference resolved to this entry. nats-server does
    // not report such keys as unknown fields; neither do we.
    bool used_as_variable = false;
};

} // namespace natrix::config
