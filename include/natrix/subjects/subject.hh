#pragma once
// Subject syntax: validation, tokenization and the brute-force matcher.
// Rules follow nats-server's server/sublist.go: tokens are separated by '.',
// none may be empty; '*' (one token) and '>' (one or more tokens, last only)
// are wildcards only as whole tokens, so "foo*" is an ordinary literal token.
// Pure functions: any thread may call them.
#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace natrix::subjects {

inline constexpr char token_separator = '.';
inline constexpr char single_wildcard = '*';
inline constexpr char full_wildcard = '>';

// SUB subject rules (nats-server IsValidSubject): non-empty, no empty token,
// '>' only as the last token, no space, tab, CR, LF or FF anywhere.
bool is_valid_subject(std::string_view subject) noexcept;

// PUB subject rules in pedantic mode (nats-server IsValidLiteralSubject): no
// empty token and no wildcard token. Like nats-server it does not look for
// whitespace: the protocol parser already split the line on space and tab.
bool is_valid_literal_subject(std::string_view subject) noexcept;

// True when no token is exactly "*" or ">" (nats-server subjectIsLiteral).
// Fast and does not validate; used to pick a cache invalidation strategy.
bool is_literal(std::string_view subject) noexcept;

// Brute-force reference matcher: does `pattern` match the published subject
// `literal`? Tokens of `literal` are compared as text, so a published "*"
// only matches a pattern's '*' or '>'. '>' in `pattern` is a wildcard only as
// its last token. Any empty token on either side means no match.
// O(length); used by tests and by permission checks.
bool subject_matches(std::string_view pattern, std::string_view literal) noexcept;

// Is every subject that `subject` (itself possibly a pattern) matches also
// matched by `pattern`? nats-server's isSubsetMatch: used to check an import
// against exports, a queue name against a permission, and whether a
// wildcard SUB overlaps a denied subject.
bool is_subset_match(std::string_view subject, std::string_view pattern) noexcept;

// True when some token is a wildcard (nats-server subjectHasWildcard).
inline bool has_wildcard(std::string_view subject) noexcept;

// A subject split at '.', kept on the caller's stack for up to 32 tokens
// (the common case, as in nats-server) and spilled to the heap beyond that.
// The views point into the subject passed to split(); it must outlive them.
class token_list {
public:
    static constexpr std::size_t inline_capacity = 32;

    token_list() = default;
    token_list(const token_list&) = delete;
    token_list& operator=(const token_list&) = delete;

    // Returns false (and leaves an unspecified list) when the subject is empty
    // or has an empty token.
    bool split(std::string_view subject);

    std::size_t size() const noexcept { return size_; }
    const std::string_view* data() const noexcept {
        return size_ <= inline_capacity ? inline_.data() : overflow_.data();
    }
    std::string_view operator[](std::size_t i) const noexcept { return data()[i]; }
    const std::string_view* begin() const noexcept { return data(); }
    const std::string_view* end() const noexcept { return data() + size_; }
    bool spilled() const noexcept { return size_ > inline_capacity; }

private:
    std::size_t size_ = 0;
    std::array<std::string_view, inline_capacity> inline_;
    std::vector<std::string_view> overflow_;
};

inline bool has_wildcard(std::string_view subject) noexcept {
    return !is_literal(subject);
}

inline bool is_single_wildcard(std::string_view token) noexcept {
    return token.size() == 1 && token[0] == single_wildcard;
}
inline bool is_full_wildcard(std::string_view token) noexcept {
    return token.size() == 1 && token[0] == full_wildcard;
}

} // namespace natrix::subjects
