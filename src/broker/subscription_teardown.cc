#include <cstdlib>

#include <natrix/broker/session_actions.hh>
#include <natrix/broker/subscription_teardown.hh>

namespace natrix::broker {

void subscription_teardown::add(session& s) {
    if (s.subs.empty()) {
        sessions_.retire(s);
        return;
    }
    queue_.push_back(&s);
}

namespace {

// glibc keeps small freed chunks in fastbins and merges all of them at the
// next large allocation in that arena: after a million frees that one merge
// took 0.8 s. A large allocation after each slice merges only the slice's.
void merge_freed_chunks() {
    void* p = std::malloc(4096);
    asm volatile("" : : "r"(p) : "memory"); // keep the pair
    std::free(p);
}

} // namespace

bool subscription_teardown::run() {
    if (queue_.empty()) return false;
    const clock::time_point until = clock::now() + budget;
    unsigned n = 0;
    while (!queue_.empty()) {
        session& s = *queue_.front();
        while (!s.subs.empty()) {
            drop_subscription(router_, stats_, s, s.subs.begin());
            if (++n % check_every == 0 && clock::now() >= until) {
                merge_freed_chunks();
                return true;
            }
        }
        sessions_.retire(s);
        queue_.pop_front();
    }
    merge_freed_chunks();
    return true;
}

} // namespace natrix::broker
