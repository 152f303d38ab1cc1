#pragma once
// Private to the subjects module: the set of subscription handles stored at
// one trie node (plain subscribers, or the members of one queue group).
//
// Contiguous so that a match copies it with one memcpy-like append. The first
// handle lives inline (most subjects have one subscriber, so no allocation);
// past k_index_threshold handles a hash index keeps insert/erase O(1), so a
// subject with 100k subscribers does not make each unsubscribe O(n).
// Owned by a subject_trie: single-threaded, like its owner.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include <natrix/subjects/subject_trie.hh>

namespace natrix::subjects::detail {

class handle_list {
public:
    static constexpr std::uint32_t k_index_threshold = 16;

    handle_list() noexcept
        : one_(nullptr) {}
    ~handle_list() { release(); }
    handle_list(handle_list&& other) noexcept;
    handle_list& operator=(handle_list&& other) noexcept;
    handle_list(const handle_list&) = delete;
    handle_list& operator=(const handle_list&) = delete;

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const sub_handle* data() const noexcept { return cap_ == 1 ? &one_ : many_; }
    const sub_handle* begin() const noexcept { return data(); }
    const sub_handle* end() const noexcept { return data() + size_; }

    bool contains(sub_handle h) const { return find(h) >= 0; }
    // Adds h; false if already present.
    bool insert(sub_handle h);
    // Removes h (order is not kept); false if absent.
    bool erase(sub_handle h);

    std::size_t heap_bytes() const noexcept;

private:
    using index_map = std::unordered_map<sub_handle, std::uint32_t>;

    sub_handle* mutable_data() noexcept { return cap_ == 1 ? &one_ : many_; }
    std::ptrdiff_t find(sub_handle h) const;
    void reallocate(std::uint32_t new_cap);
    void release() noexcept;

    union {
        sub_handle one_;   // cap_ == 1
        sub_handle* many_; // cap_ > 1
    };
    std::uint32_t size_ = 0;
    std::uint32_t cap_ = 1;
    std::unique_ptr<index_map> index_;
};

} // namespace natrix::subjects::detail
