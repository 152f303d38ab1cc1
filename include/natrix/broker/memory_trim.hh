#pragma once
// Gives freed heap back to the OS after a mass teardown, and reads the heap's
// figures for /varz (issue #20: after 1 M subscriptions were removed, RSS
// stayed at 1.13 GB with no connection open; glibc keeps freed chunks in its
// arenas, and the pages stay resident until malloc_trim).
//
// malloc_trim(0) over a gigabyte of freed chunks takes hundreds of
// milliseconds, with each arena's lock held while that arena is trimmed, so a
// shard never runs it: a shard's tick only notices the drop and asks; one
// trimmer thread (started on the first request, unpinned) does the work: a
// first trim 2 s after the request (the other shards are still dropping their
// copies of the interest when the owner has finished), then follow-ups at
// growing intervals while they still find something to give back.
// glibc only; elsewhere (and where the sanitizers replace malloc) the trim
// changes nothing and the heap figures read as unknown.
#include <chrono>
#include <cstdint>

#include <natrix/broker/shard_stats.hh>

namespace natrix::broker {

// When a shard asks for a trim: this many of its subscriptions (about 1 KiB
// of heap each, index and interest map included) or connections (buffers)
// gone since their peak, and the count no longer falling.
inline constexpr std::uint64_t trim_after_subscriptions = 100'000;
inline constexpr std::uint64_t trim_after_connections = 10'000;
// ... or this many bytes of output buffers that idle sessions gave back (a
// route or fan-out subscriber after a burst: tens of MB each).
inline constexpr std::uint64_t trim_after_buffer_bytes = 32ull << 20;
// A shard's tick gave back an idle session's output buffers (shard thread).
void note_released_buffers(std::uint64_t bytes) noexcept;
// At most one trim per interval for the whole process.
inline constexpr std::chrono::seconds trim_interval{10};

// A shard's tick, on the shard's thread (every loop::tick_interval): a few
// relaxed loads and compares; asks the trimmer thread for a trim when the
// shard's live subscriptions or connections have dropped as above. The state
// it compares against is the calling thread's own (one shard per thread).
void memory_trim_tick(std::chrono::steady_clock::time_point now, const shard_stats& stats) noexcept;

// glibc keeps small freed chunks in fastbins and merges all of an arena's at
// its next large allocation: after a million frees that one merge held a
// shard for 0.8 s. Called after each bounded batch of frees (a teardown
// slice, a burst of dropped remote interest), it makes glibc merge only that
// batch's. Cheap: one 4 KiB malloc and free.
void merge_freed_chunks() noexcept;

// The heap as malloc sees it (glibc mallinfo2, all arenas). mallinfo2 walks
// every arena's free lists under that arena's lock, so: for monitoring
// requests, never on a shard's loop; a reading is reused for a second, and
// for 5 s after a shard's tick saw 5,000 subscriptions or 500 connections
// go at once (a walk in the middle of a 1 M teardown held the shard 0.1 s).
struct heap_usage {
    bool known = false;        // false where mallinfo2 is not glibc's
    std::uint64_t in_use = 0;  // handed out by malloc and not freed: live data
    std::uint64_t free = 0;    // free chunks malloc keeps (trimmed pages among
                               // them are no longer resident)
    std::uint64_t mmapped = 0; // of in_use, blocks mmapped on their own
};
heap_usage read_heap_usage() noexcept;

// What the trims did, since start.
struct heap_trim_totals {
    std::uint64_t requests = 0;        // times a shard asked (each starts a series of trims)
    std::uint64_t trims = 0;           // malloc_trim calls
    std::uint64_t released_bytes = 0;  // resident bytes given back (RSS before minus after)
    std::int64_t last_duration_ns = 0; // how long the last malloc_trim took
};
heap_trim_totals read_heap_trim_totals() noexcept;

// malloc_trim(0) on the calling thread, counted in the totals; returns the
// resident bytes it gave back. For the trimmer thread and tests.
std::uint64_t trim_heap_now() noexcept;

} // namespace natrix::broker
