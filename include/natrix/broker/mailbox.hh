#pragma once
// A shard's end of the N×N ring matrix: its inbound rings (one per producer
// shard), the overflow of records waiting for space in outbound rings, the
// sequence counters of the PONG barrier, and wake-ups of sleeping peers.
//
// Lives on a shard; only its thread calls it, except inbox() (the producer
// shard writes its ring), consumed_from() (peers read it for the barrier) and
// the counters in shard_stats. Cross-shard traffic goes through here only.
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/broker/shard_stats.hh>
#include <natrix/broker/wakeup.hh>
#include <natrix/rings/spsc_ring.hh>
#include <natrix/subjects/interest_delta.hh>

namespace natrix::broker {

class mailbox {
public:
    mailbox(unsigned id, unsigned nshards, std::size_t ring_bytes, wakeup& own, shard_stats& stats);
    ~mailbox();
    mailbox(const mailbox&) = delete;
    mailbox& operator=(const mailbox&) = delete;

    // Every shard's mailbox, by shard id (this one included); before any
    // thread runs.
    void link(const std::vector<mailbox*>& all);

    // The ring shard `producer` writes into this shard.
    rings::spsc_ring& inbox(unsigned producer) noexcept { return *inbox_[producer]; }

    // Queues a record for shard `to`. A full ring never blocks and never
    // drops: records wait in order in an overflow queue.
    void push(unsigned to, std::uint32_t type, std::string_view body);
    // Moves overflow into the rings, publishes what was written this turn and
    // wakes the peers that sleep.
    void flush();
    // Hands inbound records to fn(type, body), at most `max_per_ring` from
    // each peer's ring; true when any came.
    template <typename Fn>
    bool drain(Fn&& fn, std::size_t max_per_ring = SIZE_MAX);
    // Work for this shard: inbound records, or overflow waiting to go out.
    bool pending() const noexcept;

    // Shard-wide input pause while the overflow is large (hysteresis).
    bool congested() const noexcept { return congested_; }
    std::size_t overflow_bytes() const noexcept { return overflow_bytes_; }
    std::size_t inbound_bytes() const noexcept;

    // PONG barrier: records sent to each shard so far, and whether every
    // shard has processed the records it had been sent at `target`.
    const std::vector<std::uint64_t>& sent() const noexcept { return sent_seq_; }
    bool caught_up(const std::vector<std::uint64_t>& target) const noexcept;

private:
    // A record larger than the ring's max_record goes as a pointer to a heap
    // copy: the type with this bit, and 8 bytes of pointer as its body.
    static constexpr std::uint32_t indirect_bit = 0x8000'0000u;
    static std::string* take_indirect(std::string_view body) noexcept;

    void update_congestion();

    unsigned id_;
    unsigned nshards_;
    std::size_t ring_bytes_;
    wakeup& own_wakeup_;
    shard_stats& stats_;
    std::vector<mailbox*> peers_;
    // inbox_[p] is written by shard p; outbound to t is peers_[t]->inbox(id_)
    std::vector<std::unique_ptr<rings::spsc_ring>> inbox_;
    std::vector<std::deque<std::string>> overflow_; // per destination
    std::vector<bool> touched_;                     // destinations with unpublished records
    std::size_t overflow_bytes_ = 0;
    bool congested_ = false;

    // sent_seq_[t] counts records sent to shard t; consumed_from_[p] (written
    // here, read by shard p) counts the records this shard processed from p.
    std::vector<std::uint64_t> sent_seq_;
    std::array<std::atomic<std::uint64_t>, subjects::max_shards> consumed_from_{};
    std::array<std::uint64_t, subjects::max_shards> consumed_count_{};
};

template <typename Fn>
bool mailbox::drain(Fn&& fn, std::size_t max_per_ring) {
    bool any = false;
    for (unsigned p = 0; p < nshards_; ++p) {
        if (p == id_) continue;
        const std::size_t n = inbox_[p]->drain(
            [&](rings::spsc_ring::record r) {
                if (r.type & indirect_bit) {
                    const std::unique_ptr<std::string> big(take_indirect(r.body));
                    fn(r.type & ~indirect_bit, std::string_view(*big));
                } else {
                    fn(r.type, r.body);
                }
            },
            max_per_ring);
        if (n) {
            any = true;
            consumed_count_[p] += n;
            consumed_from_[p].store(consumed_count_[p], std::memory_order_release);
        }
    }
    return any;
}

} // namespace natrix::broker
