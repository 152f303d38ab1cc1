#include <algorithm>

#include <natrix/monitor/go_format.hh>
#include <natrix/monitor/json_writer.hh>
#include <natrix/monitor/routez.hh>

namespace natrix::monitor {

void write_link_activity(json_writer& w, const broker::route_info_view& r,
                         std::chrono::steady_clock::time_point steady_now,
                         std::chrono::system_clock::duration wall_offset) {
    w.field("start", format_rfc3339_nano(r.start, wall_offset));
    w.field("last_activity", format_rfc3339_nano(r.last_activity, wall_offset));
    w.field("rtt", format_rtt(r.rtt));
    w.field("uptime", format_uptime(steady_now - r.start));
    w.field("idle", format_uptime(steady_now - r.last_activity));
}

void write_link_counters(json_writer& w, const broker::route_info_view& r) {
    w.field("in_msgs", r.in_msgs);
    w.field("out_msgs", r.out_msgs);
    w.field("in_bytes", r.in_bytes);
    w.field("out_bytes", r.out_bytes);
}

std::string render_routez(std::string_view server_id, std::chrono::system_clock::time_point now,
                          std::chrono::steady_clock::time_point steady_now,
                          std::chrono::system_clock::duration wall_offset,
                          const std::vector<broker::route_view>& registry,
                          std::vector<broker::route_info_view> held) {
    std::sort(held.begin(), held.end(),
              [](const auto& a, const auto& b) { return a.serial < b.serial; });
    json_writer w;
    w.begin_object();
    w.field("server_id", server_id);
    w.field("now", format_rfc3339_nano(now));
    w.field("num_routes", held.size());
    w.key("routes").begin_array();
    for (const broker::route_info_view& r : held) {
        bool configured = false;
        for (const broker::route_view& v : registry)
            if (v.serial == r.serial) configured = v.configured;
        w.begin_object();
        w.field("rid", r.serial);
        w.field("remote_id", r.remote_id);
        if (!r.remote_name.empty()) w.field("remote_name", r.remote_name);
        w.field("did_solicit", r.solicited);
        w.field("is_configured", configured);
        w.field("ip", r.ip);
        w.field("port", r.port);
        write_link_activity(w, r, steady_now, wall_offset);
        w.field("pending_size", r.pending_bytes);
        write_link_counters(w, r);
        w.field("subscriptions", r.subscriptions);
        // natrix: flow control on this route (decision 0013). `paused`: our
        // subscribers behind hold its input; nobody is ever cut for a burst.
        w.field("paused", r.pausers > 0);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return w.take();
}

} // namespace natrix::monitor
