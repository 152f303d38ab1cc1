#pragma once
// A hash map that grows a little at a time. std::unordered_map rehashes every
// node at once when it grows: at a million entries that is a few hundred
// milliseconds in which the shard serves nobody (issue #20). This one keeps
// the old table beside a new one twice its size and moves a few nodes on each
// insert or erase, as Go's maps and Redis's dict do. Nodes move by
// extract/insert, so pointers and references to elements (and views into
// their keys) stay valid.
//
// Not thread-safe; used by one shard's thread.
#include <cstddef>
#include <functional>
#include <iterator>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace natrix::util {

template <class Key, class T, class Hash = std::hash<Key>, class KeyEqual = std::equal_to<Key>>
class gradual_map {
    using table = std::unordered_map<Key, T, Hash, KeyEqual>;

public:
    using key_type = Key;
    using mapped_type = T;
    using value_type = typename table::value_type;
    // Nodes moved from the old table per insert or erase. With the new table
    // reserved for twice the old one's size, the old one is empty well
    // before the new one is full.
    static constexpr std::size_t step = 4;

    template <bool Const>
    class basic_iterator {
        using owner = std::conditional_t<Const, const gradual_map, gradual_map>;
        using inner =
            std::conditional_t<Const, typename table::const_iterator, typename table::iterator>;

    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = typename table::value_type;
        using difference_type = std::ptrdiff_t;
        using reference = std::conditional_t<Const, const value_type&, value_type&>;
        using pointer = std::conditional_t<Const, const value_type*, value_type*>;

        basic_iterator() = default;
        basic_iterator(owner* m, bool in_old, inner it)
            : m_(m)
            , in_old_(in_old)
            , it_(it) {
            settle();
        }
        // iterator -> const_iterator
        template <bool C = Const, class = std::enable_if_t<C>>
        basic_iterator(const basic_iterator<false>& o) // NOLINT(google-explicit-constructor)
            : m_(o.m_)
            , in_old_(o.in_old_)
            , it_(o.it_) {}

        reference operator*() const { return *it_; }
        pointer operator->() const { return &*it_; }
        basic_iterator& operator++() {
            ++it_;
            settle();
            return *this;
        }
        basic_iterator operator++(int) {
            basic_iterator r = *this;
            ++*this;
            return r;
        }
        friend bool operator==(const basic_iterator& a, const basic_iterator& b) {
            return a.in_old_ == b.in_old_ && a.it_ == b.it_;
        }

    private:
        friend class gradual_map;
        template <bool>
        friend class basic_iterator;
        // The old table's end leads on to the new table's beginning.
        void settle() {
            if (in_old_ && it_ == m_->old_.end()) {
                in_old_ = false;
                it_ = m_->now_.begin();
            }
        }
        owner* m_ = nullptr;
        bool in_old_ = false;
        inner it_{};
    };
    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;

    iterator begin() { return iterator(this, true, old_.begin()); }
    iterator end() { return iterator(this, false, now_.end()); }
    const_iterator begin() const { return const_iterator(this, true, old_.begin()); }
    const_iterator end() const { return const_iterator(this, false, now_.end()); }

    std::size_t size() const noexcept { return now_.size() + old_.size(); }
    bool empty() const noexcept { return now_.empty() && old_.empty(); }
    // Both tables' buckets (memory estimates).
    std::size_t bucket_count() const noexcept { return now_.bucket_count() + old_.bucket_count(); }
    // True while nodes are still moving to the new table.
    bool growing() const noexcept { return !old_.empty(); }

    iterator find(const Key& k) {
        if (auto it = now_.find(k); it != now_.end()) return iterator(this, false, it);
        if (!old_.empty())
            if (auto it = old_.find(k); it != old_.end()) return iterator(this, true, it);
        return end();
    }
    const_iterator find(const Key& k) const {
        if (auto it = now_.find(k); it != now_.end()) return const_iterator(this, false, it);
        if (!old_.empty())
            if (auto it = old_.find(k); it != old_.end()) return const_iterator(this, true, it);
        return end();
    }
    std::size_t count(const Key& k) const { return find(k) == end() ? 0 : 1; }

    template <class K, class... Args>
    std::pair<iterator, bool> try_emplace(K&& k, Args&&... args) {
        if (auto it = find(k); it != end()) return {it, false};
        make_room();
        auto r = now_.try_emplace(std::forward<K>(k), std::forward<Args>(args)...);
        move_some();
        return {iterator(this, false, r.first), true};
    }
    template <class K, class V>
    std::pair<iterator, bool> emplace(K&& k, V&& v) {
        return try_emplace(std::forward<K>(k), std::forward<V>(v));
    }

    void erase(iterator it) {
        if (it.in_old_)
            old_.erase(it.it_);
        else
            now_.erase(it.it_);
        move_some();
    }
    std::size_t erase(const Key& k) {
        auto it = find(k);
        if (it == end()) return 0;
        erase(it);
        return 1;
    }
    void clear() {
        now_.clear();
        table().swap(old_);
    }

private:
    // Starts growing before the insert that would make the table rehash.
    void make_room() {
        if (old_.empty() && static_cast<float>(now_.size() + 1) >
                                static_cast<float>(now_.bucket_count()) * now_.max_load_factor()) {
            old_.swap(now_);
            now_.reserve(2 * old_.size() + 16);
        } else if (!old_.empty() &&
                   static_cast<float>(now_.size() + 1) >
                       static_cast<float>(now_.bucket_count()) * now_.max_load_factor()) {
            // Not reached with `step` >= 2; finish the move rather than rehash twice.
            while (!old_.empty()) move_some();
        }
    }
    void move_some() {
        if (old_.empty()) return;
        for (std::size_t i = 0; i < step && !old_.empty(); ++i)
            now_.insert(old_.extract(old_.begin()));
        if (old_.empty()) table().swap(old_); // give its buckets back
    }

    table now_;
    table old_; // being emptied into now_
};

} // namespace natrix::util
