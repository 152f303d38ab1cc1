#pragma once
// Maps a subject matched by an import's `from` pattern to the subject it
// takes on the other side (nats-server's stream/service import transforms):
//  - prefix: "pfx." + subject;
//  - a literal `from`: always `to`;
//  - `to` equal to `from` (or empty): unchanged;
//  - otherwise each `to` token is literal, `$N` / `{{wildcard(N)}}` (the
//    subject's token under the Nth wildcard of `from`), or `*` / `>` taking
//    the next wildcard of `from` in order.
// Immutable after construction; any thread may call apply().
#include <string>
#include <string_view>
#include <vector>

namespace natrix::auth {

class subject_transform {
public:
    subject_transform() = default; // identity
    static subject_transform with_prefix(std::string prefix);
    // Empty error on success; otherwise why `to` cannot follow `from`.
    static subject_transform mapping(std::string from, std::string to, std::string* error);

    // `subject` must match `from`.
    std::string apply(std::string_view subject) const;
    bool identity() const noexcept { return kind_ == kind::identity; }

private:
    enum class kind { identity, prefix, literal, tokens };
    struct part {
        int wildcard = -1; // index among from's wildcards; -1: literal text
        bool rest = false; // '>' : the remaining tokens
        std::string text;
    };
    kind kind_ = kind::identity;
    std::string text_;              // prefix or literal result
    std::vector<int> wildcard_pos_; // token index in `from` of each wildcard
    std::vector<part> parts_;
};

} // namespace natrix::auth
