#pragma once
// What a session's permissions allow, with the caches nats-server keeps: a
// per-subject publish verdict cache and the reply allowances that
// allow_responses grants. Pure functions of the session's permission state.
//
// Called on the session's shard only.
#include <string_view>

#include <natrix/broker/session.hh>

namespace natrix::broker {

// The static allow/deny verdict (cached per subject), then, when that says
// no, the allowances allow_responses granted (never cached).
bool publish_permitted(permission_state& p, std::string_view subject);
// allow_responses: a request delivered to the client lets it answer `reply`.
void note_reply(permission_state& p, std::string_view reply);
// Deliveries are filtered when some wildcard subscription covers a subject
// the permissions deny (nats-server's mperms).
void refresh_deny_filter(session& s);

} // namespace natrix::broker
