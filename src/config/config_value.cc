#include <natrix/config/config_value.hh>

namespace natrix::config {

std::string position::to_string() const {
    std::string out = file && !file->empty() ? *file : std::string("<string>");
    out += ':';
    out += std::to_string(line);
    out += ':';
    out += std::to_string(column);
    return out;
}

std::string_view kind_name(value_kind kind) noexcept {
    switch (kind) {
    case value_kind::map:
        return "map";
    case value_kind::array:
        return "array";
    case value_kind::string:
        return "string";
    case value_kind::integer:
        return "integer";
    case value_kind::floating:
        return "float";
    case value_kind::boolean:
        return "boolean";
    }
    return "value";
}

value value::make_map(position pos) {
    value v;
    v.kind_ = value_kind::map;
    v.pos_ = std::move(pos);
    return v;
}

value value::make_array(position pos) {
    value v;
    v.kind_ = value_kind::array;
    v.pos_ = std::move(pos);
    return v;
}

value value::make_string(std::string s, position pos) {
    value v;
    v.kind_ = value_kind::string;
    v.str_ = std::move(s);
    v.pos_ = std::move(pos);
    return v;
}

value value::make_integer(std::int64_t i, position pos) {
    value v;
    v.kind_ = value_kind::integer;
    v.int_ = i;
    v.pos_ = std::move(pos);
    return v;
}

value value::make_float(double d, position pos) {
    value v;
    v.kind_ = value_kind::floating;
    v.float_ = d;
    v.pos_ = std::move(pos);
    return v;
}

value value::make_bool(bool b, position pos) {
    value v;
    v.kind_ = value_kind::boolean;
    v.bool_ = b;
    v.pos_ = std::move(pos);
    return v;
}

const std::string& value::as_string() const noexcept {
    static const std::string empty;
    return kind_ == value_kind::string ? str_ : empty;
}

const std::vector<value>& value::as_array() const noexcept {
    static const std::vector<value> empty;
    return kind_ == value_kind::array ? array_ : empty;
}

const std::vector<map_entry>& value::as_map() const noexcept {
    static const std::vector<map_entry> empty;
    return kind_ == value_kind::map ? map_ : empty;
}

const map_entry* value::find_entry(std::string_view key) const noexcept {
    if (kind_ != value_kind::map) return nullptr;
    for (const map_entry& e : map_)
        if (e.key == key) return &e;
    return nullptr;
}

const value* value::find(std::string_view key) const noexcept {
    const map_entry* e = find_entry(key);
    return e ? &e->val : nullptr;
}

void value::set(map_entry entry) {
    for (map_entry& e : map_) {
        if (e.key == entry.key) {
            e = std::move(entry);
            return;
        }
    }
    map_.push_back(std::move(entry));
}

void value::set(std::string key, position key_pos, value v) {
    set(map_entry{std::move(key), std::move(key_pos), std::move(v), false});
}

} // namespace natrix::config
