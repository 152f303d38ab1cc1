#include "handle_list.hh"

#include <algorithm>

namespace natrix::subjects::detail {

handle_list::handle_list(handle_list&& other) noexcept
    : one_(nullptr)
    , size_(other.size_)
    , cap_(other.cap_)
    , index_(std::move(other.index_)) {
    if (cap_ == 1) {
        one_ = other.one_;
    } else {
        many_ = other.many_;
    }
    other.one_ = nullptr;
    other.size_ = 0;
    other.cap_ = 1;
}

handle_list& handle_list::operator=(handle_list&& other) noexcept {
    if (this != &other) {
        release();
        size_ = other.size_;
        cap_ = other.cap_;
        if (cap_ == 1) {
            one_ = other.one_;
        } else {
            many_ = other.many_;
        }
        index_ = std::move(other.index_);
        other.one_ = nullptr;
        other.size_ = 0;
        other.cap_ = 1;
    }
    return *this;
}

void handle_list::release() noexcept {
    if (cap_ > 1) delete[] many_;
    one_ = nullptr;
    size_ = 0;
    cap_ = 1;
    index_.reset();
}

std::ptrdiff_t handle_list::find(sub_handle h) const {
    if (index_) {
        const auto it = index_->find(h);
        return it == index_->end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
    }
    const sub_handle* d = data();
    for (std::uint32_t i = 0; i < size_; ++i)
        if (d[i] == h) return i;
    return -1;
}

void handle_list::reallocate(std::uint32_t new_cap) {
    if (new_cap <= 1) {
        const sub_handle first = size_ ? data()[0] : nullptr;
        if (cap_ > 1) delete[] many_;
        one_ = first;
        cap_ = 1;
        return;
    }
    auto* fresh = new sub_handle[new_cap];
    std::copy(data(), data() + size_, fresh);
    if (cap_ > 1) delete[] many_;
    many_ = fresh;
    cap_ = new_cap;
}

bool handle_list::insert(sub_handle h) {
    if (find(h) >= 0) return false;
    if (size_ == cap_) reallocate(cap_ == 1 ? 4 : cap_ * 2);
    mutable_data()[size_] = h;
    if (index_) {
        index_->emplace(h, size_);
    } else if (size_ + 1 > k_index_threshold) {
        index_ = std::make_unique<index_map>();
        index_->reserve(size_ + 1);
        const sub_handle* d = data();
        for (std::uint32_t i = 0; i <= size_; ++i) index_->emplace(d[i], i);
    }
    ++size_;
    return true;
}

bool handle_list::erase(sub_handle h) {
    const std::ptrdiff_t pos = find(h);
    if (pos < 0) return false;
    sub_handle* d = mutable_data();
    const std::uint32_t last = size_ - 1;
    if (static_cast<std::uint32_t>(pos) != last) {
        d[pos] = d[last];
        if (index_) (*index_)[d[pos]] = static_cast<std::uint32_t>(pos);
    }
    if (index_) index_->erase(h);
    --size_;
    // Give memory back as the list shrinks, so churn cannot pin peak usage.
    if (index_ && size_ <= k_index_threshold / 2) index_.reset();
    if (cap_ > 1 && size_ <= 1) {
        reallocate(1);
    } else if (cap_ > 4 && size_ <= cap_ / 4) {
        reallocate(cap_ / 2);
    }
    return true;
}

std::size_t handle_list::heap_bytes() const noexcept {
    std::size_t bytes = cap_ > 1 ? cap_ * sizeof(sub_handle) : 0;
    if (index_) {
        // libstdc++: one node (next, value, cached hash) per element, one bucket pointer each.
        bytes += index_->size() * (sizeof(void*) * 2 + sizeof(index_map::value_type)) +
                 index_->bucket_count() * sizeof(void*) + sizeof(index_map);
    }
    return bytes;
}

} // namespace natrix::subjects::detail
