#include <cstring>

#include <natrix/subjects/subject.hh>

namespace natrix::subjects {

namespace {

constexpr bool is_subject_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

// Steps through the '.'-separated tokens of s. `pos` starts at 0 and is past
// s.size() once the last token has been returned, so an empty subject or a
// trailing '.' yields one empty token, as strings.Split does in Go.
bool next_token(std::string_view s, std::size_t& pos, std::string_view& tok) noexcept {
    if (pos > s.size()) return false;
    const std::size_t dot = s.find(token_separator, pos);
    if (dot == std::string_view::npos) {
        tok = s.substr(pos);
        pos = s.size() + 1;
    } else {
        tok = s.substr(pos, dot - pos);
        pos = dot + 1;
    }
    return true;
}

} // namespace

bool is_valid_subject(std::string_view subject) noexcept {
    const std::size_t n = subject.size();
    std::size_t start = 0;
    bool seen_full_wildcard = false;
    for (std::size_t i = 0; i <= n; ++i) {
        if (i == n || subject[i] == token_separator) {
            const std::size_t len = i - start;
            if (len == 0 || seen_full_wildcard) return false;
            if (len == 1 && subject[start] == full_wildcard) seen_full_wildcard = true;
            start = i + 1;
        } else if (is_subject_space(subject[i])) {
            return false;
        }
    }
    return true;
}

bool is_valid_literal_subject(std::string_view subject) noexcept {
    std::size_t pos = 0;
    std::string_view tok;
    while (next_token(subject, pos, tok)) {
        if (tok.empty() || is_single_wildcard(tok) || is_full_wildcard(tok)) return false;
    }
    return true;
}

bool is_literal(std::string_view subject) noexcept {
    const std::size_t n = subject.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char c = subject[i];
        if (c != single_wildcard && c != full_wildcard) continue;
        if ((i == 0 || subject[i - 1] == token_separator) &&
            (i + 1 == n || subject[i + 1] == token_separator))
            return false;
    }
    return true;
}

bool subject_matches(std::string_view pattern, std::string_view literal) noexcept {
    std::size_t pp = 0, lp = 0;
    std::string_view pt, lt;
    for (;;) {
        if (!next_token(pattern, pp, pt)) return !next_token(literal, lp, lt);
        if (pt.empty()) return false;
        const bool last_pattern_token = pp > pattern.size();
        if (last_pattern_token && is_full_wildcard(pt)) {
            // '>' needs at least one more token, and every one must be non-empty.
            if (!next_token(literal, lp, lt)) return false;
            do {
                if (lt.empty()) return false;
            } while (next_token(literal, lp, lt));
            return true;
        }
        if (!next_token(literal, lp, lt) || lt.empty()) return false;
        if (!is_single_wildcard(pt) && pt != lt) return false;
    }
}

bool is_subset_match(std::string_view subject, std::string_view pattern) noexcept {
    // Go's isSubsetMatchTokenized: walk the pattern's tokens; empty tokens
    // are kept (and fail only when reached), so "g..x" is inside "g.>".
    std::size_t sp = 0, pp = 0;
    std::string_view st, pt;
    bool have_subject = next_token(subject, sp, st);
    while (next_token(pattern, pp, pt)) {
        if (!have_subject) return false;
        if (pt.empty()) return false;
        if (is_full_wildcard(pt)) return true;
        if (st.empty() || is_full_wildcard(st)) return false;
        if (is_single_wildcard(st)) {
            if (!is_single_wildcard(pt)) return false;
        } else if (!is_single_wildcard(pt) && st != pt) {
            return false;
        }
        have_subject = next_token(subject, sp, st);
    }
    return !have_subject;
}

bool token_list::split(std::string_view subject) {
    size_ = 0;
    overflow_.clear();
    if (subject.empty()) return false;
    const char* p = subject.data();
    const std::size_t n = subject.size();
    std::size_t start = 0;
    for (;;) {
        const void* dot = std::memchr(p + start, token_separator, n - start);
        const std::size_t end =
            dot ? static_cast<std::size_t>(static_cast<const char*>(dot) - p) : n;
        if (end == start) return false;
        const std::string_view tok(p + start, end - start);
        if (size_ < inline_capacity) {
            inline_[size_] = tok;
        } else {
            if (size_ == inline_capacity) overflow_.assign(inline_.begin(), inline_.end());
            overflow_.push_back(tok);
        }
        ++size_;
        if (!dot) return true;
        start = end + 1;
    }
}

} // namespace natrix::subjects
