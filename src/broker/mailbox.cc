#include <cstring>

#include <natrix/broker/mailbox.hh>
#include <natrix/util/log.hh>

namespace natrix::broker {

mailbox::mailbox(unsigned id, unsigned nshards, std::size_t ring_bytes, wakeup& own,
                 shard_stats& stats)
    : id_(id)
    , nshards_(nshards)
    , ring_bytes_(ring_bytes)
    , own_wakeup_(own)
    , stats_(stats) {
    for (unsigned p = 0; p < nshards; ++p)
        inbox_.push_back(p == id ? nullptr : std::make_unique<rings::spsc_ring>(ring_bytes));
    overflow_.resize(nshards);
    touched_.resize(nshards, false);
    sent_seq_.resize(nshards, 0);
}

void mailbox::link(const std::vector<mailbox*>& all) {
    peers_ = all;
}

mailbox::~mailbox() {
    // Records nobody will read: free the bodies that travelled by pointer.
    for (unsigned p = 0; p < nshards_; ++p) {
        if (p == id_) continue;
        inbox_[p]->drain([](rings::spsc_ring::record r) {
            if (r.type & indirect_bit) delete take_indirect(r.body);
        });
        for (const std::string& rec : overflow_[p]) {
            std::uint32_t type;
            std::memcpy(&type, rec.data(), 4);
            if (type & indirect_bit) delete take_indirect(std::string_view(rec).substr(4));
        }
    }
}

std::string* mailbox::take_indirect(std::string_view body) noexcept {
    std::string* big;
    std::memcpy(&big, body.data(), sizeof big);
    return big;
}

void mailbox::push(unsigned to, std::uint32_t type, std::string_view body) {
    rings::spsc_ring& r = peers_[to]->inbox(id_);
    std::string* big = nullptr;
    if (body.size() > r.max_record()) {
        // Rings are sized at start for max_payload; a record larger than
        // that (max_payload raised by a reload, or hundreds of long queue
        // names) travels as a pointer to a copy, which the reader frees.
        big = new std::string(body);
        body = std::string_view(reinterpret_cast<const char*>(&big), sizeof big);
        type |= indirect_bit;
        stats_.ring_indirect.add(1);
    }
    ++sent_seq_[to];
    auto& of = overflow_[to];
    if (of.empty()) {
        if (char* p = r.try_reserve(type, body.size())) {
            std::memcpy(p, body.data(), body.size());
            touched_[to] = true;
            stats_.ring_records_out.add(1);
            return;
        }
        stats_.ring_full.add(1);
    }
    std::string rec;
    rec.reserve(4 + body.size());
    rec.append(reinterpret_cast<const char*>(&type), sizeof type);
    rec.append(body);
    overflow_bytes_ += rec.size();
    of.push_back(std::move(rec));
    update_congestion();
}

// Hysteresis: pause input at 8 rings' worth of overflow, resume at one.
void mailbox::update_congestion() {
    const std::size_t high = 8 * ring_bytes_, low = ring_bytes_;
    if (!congested_ && overflow_bytes_ > high) {
        congested_ = true;
        LOG_DBG("shard %u: cross-shard overflow %zu bytes: pausing client input", id_,
                overflow_bytes_);
    } else if (congested_ && overflow_bytes_ < low) {
        congested_ = false;
        LOG_DBG("shard %u: overflow drained: resuming client input", id_);
    }
}

void mailbox::flush() {
    for (unsigned t = 0; t < nshards_; ++t) {
        if (t == id_) continue;
        rings::spsc_ring& r = peers_[t]->inbox(id_);
        auto& of = overflow_[t];
        while (!of.empty()) {
            const std::string& rec = of.front();
            std::uint32_t type;
            std::memcpy(&type, rec.data(), 4);
            char* p = r.try_reserve(type, rec.size() - 4);
            if (!p) break;
            std::memcpy(p, rec.data() + 4, rec.size() - 4);
            overflow_bytes_ -= rec.size();
            of.pop_front();
            touched_[t] = true;
            stats_.ring_records_out.add(1);
        }
        if (congested_) update_congestion();
        if (!touched_[t]) continue;
        touched_[t] = false;
        r.publish();
        // Pairs with the sleeper's seq_cst store of its flag: either it sees
        // our records on its re-check, or we see it asleep and wake it.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (peers_[t]->own_wakeup_.asleep()) {
            peers_[t]->own_wakeup_.wake();
            stats_.wakeups_sent.add(1);
        }
    }
}

bool mailbox::pending() const noexcept {
    for (unsigned p = 0; p < nshards_; ++p)
        if (p != id_ && (!inbox_[p]->empty() || !overflow_[p].empty())) return true;
    return false;
}

std::size_t mailbox::inbound_bytes() const noexcept {
    std::size_t n = 0;
    for (unsigned p = 0; p < nshards_; ++p)
        if (p != id_) n += inbox_[p]->used_bytes();
    return n;
}

bool mailbox::caught_up(const std::vector<std::uint64_t>& target) const noexcept {
    for (unsigned t = 0; t < nshards_; ++t)
        if (t != id_ && peers_[t]->consumed_from_[id_].load(std::memory_order_acquire) < target[t])
            return false;
    return true;
}

} // namespace natrix::broker
