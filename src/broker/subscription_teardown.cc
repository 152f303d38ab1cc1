#include <natrix/broker/memory_trim.hh>
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
