#include <charconv>

#include <natrix/auth/subject_transform.hh>
#include <natrix/subjects/subject.hh>

namespace natrix::auth {

subject_transform subject_transform::with_prefix(std::string prefix) {
    subject_transform t;
    if (prefix.empty()) return t;
    if (prefix.back() != '.') prefix += '.';
    t.kind_ = kind::prefix;
    t.text_ = std::move(prefix);
    return t;
}

namespace {

// "$3" or "{{wildcard(3)}}" (spaces allowed inside the braces) -> 3; 0 if neither.
int wildcard_reference(std::string_view tok) {
    std::string_view num;
    if (tok.size() > 1 && tok[0] == '$') {
        num = tok.substr(1);
    } else if (tok.size() > 4 && tok.substr(0, 2) == "{{" && tok.substr(tok.size() - 2) == "}}") {
        std::string_view in = tok.substr(2, tok.size() - 4);
        while (!in.empty() && in.front() == ' ') in.remove_prefix(1);
        while (!in.empty() && in.back() == ' ') in.remove_suffix(1);
        constexpr std::string_view fn = "wildcard(";
        if (in.substr(0, fn.size()) != fn || in.empty() || in.back() != ')') return 0;
        num = in.substr(fn.size(), in.size() - fn.size() - 1);
    } else {
        return 0;
    }
    int n = 0;
    auto r = std::from_chars(num.data(), num.data() + num.size(), n);
    return r.ec == std::errc() && r.ptr == num.data() + num.size() ? n : 0;
}

} // namespace

subject_transform subject_transform::mapping(std::string from, std::string to, std::string* error) {
    subject_transform t;
    error->clear();
    if (to.empty() || to == from) return t;
    if (subjects::is_literal(from)) {
        t.kind_ = kind::literal;
        t.text_ = std::move(to);
        return t;
    }
    subjects::token_list ft, tt;
    if (!ft.split(from) || !tt.split(to)) {
        *error = "invalid subject";
        return t;
    }
    int full_pos = -1;
    for (std::size_t i = 0; i < ft.size(); ++i) {
        if (subjects::is_single_wildcard(ft[i])) t.wildcard_pos_.push_back(static_cast<int>(i));
        if (subjects::is_full_wildcard(ft[i])) full_pos = static_cast<int>(i);
    }
    std::size_t next_positional = 0;
    for (std::size_t i = 0; i < tt.size(); ++i) {
        part p;
        const int ref = wildcard_reference(tt[i]);
        if (ref > 0) {
            if (static_cast<std::size_t>(ref) > t.wildcard_pos_.size()) {
                *error = "wildcard reference $" + std::to_string(ref) + " out of range";
                return subject_transform();
            }
            p.wildcard = ref - 1;
        } else if (subjects::is_single_wildcard(tt[i])) {
            if (next_positional >= t.wildcard_pos_.size()) {
                *error = "more wildcards in the destination than in the source";
                return subject_transform();
            }
            p.wildcard = static_cast<int>(next_positional++);
        } else if (subjects::is_full_wildcard(tt[i])) {
            if (full_pos < 0) {
                *error = "destination '>' without '>' in the source";
                return subject_transform();
            }
            p.rest = true;
        } else {
            p.text = std::string(tt[i]);
        }
        t.parts_.push_back(std::move(p));
    }
    if (full_pos >= 0) t.wildcard_pos_.push_back(full_pos); // last: where '>' starts
    t.kind_ = kind::tokens;
    return t;
}

std::string subject_transform::apply(std::string_view subject) const {
    switch (kind_) {
    case kind::identity:
        return std::string(subject);
    case kind::prefix:
        return text_ + std::string(subject);
    case kind::literal:
        return text_;
    case kind::tokens:
        break;
    }
    subjects::token_list st;
    if (!st.split(subject)) return std::string(subject);
    std::string out;
    for (const part& p : parts_) {
        if (!out.empty()) out += '.';
        if (p.rest) {
            const auto start = static_cast<std::size_t>(wildcard_pos_.back());
            for (std::size_t i = start; i < st.size(); ++i) {
                if (i > start) out += '.';
                out += st[i];
            }
        } else if (p.wildcard >= 0) {
            const auto at =
                static_cast<std::size_t>(wildcard_pos_[static_cast<std::size_t>(p.wildcard)]);
            if (at < st.size()) out += st[at];
        } else {
            out += p.text;
        }
    }
    return out;
}

} // namespace natrix::auth
