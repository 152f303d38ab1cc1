#include <map>

#include <natrix/monitor/gatewayz.hh>
#include <natrix/monitor/go_format.hh>
#include <natrix/monitor/json_writer.hh>
#include <natrix/monitor/routez.hh>

namespace natrix::monitor {

namespace {

void connection(json_writer& w, const broker::route_info_view& r,
                std::chrono::steady_clock::time_point steady_now,
                std::chrono::system_clock::duration wall_offset) {
    w.key("connection").begin_object();
    w.field("cid", r.serial);
    w.field("ip", r.ip);
    w.field("port", r.port);
    write_link_activity(w, r, steady_now, wall_offset);
    w.field("pending_bytes", r.pending_bytes);
    write_link_counters(w, r);
    w.field("subscriptions", r.subscriptions);
    w.field("name", r.remote_id);
    // natrix: our subscribers behind hold its input (flow control).
    w.field("paused", r.pausers > 0);
    w.end_object();
}

} // namespace

std::string render_gatewayz(const gatewayz_input& in, std::chrono::system_clock::time_point now,
                            std::chrono::steady_clock::time_point steady_now,
                            std::chrono::system_clock::duration wall_offset) {
    json_writer w;
    w.begin_object();
    w.field("server_id", in.server_id);
    w.field("now", format_rfc3339_nano(now));
    if (in.enabled) {
        w.field("name", in.name);
        w.field("host", in.host);
        w.field("port", in.port);
    }
    const auto configured = [&](std::uint64_t serial) {
        for (const broker::gateway_view& v : in.registry)
            if (v.serial == serial) return v.configured;
        return false;
    };
    std::map<std::string, const broker::route_info_view*> out;
    std::map<std::string, std::vector<const broker::route_info_view*>> inb;
    for (const broker::route_info_view& r : in.held) {
        if (r.kind == 'o') out[r.gateway] = &r;
        if (r.kind == 'i') inb[r.gateway].push_back(&r);
    }
    w.key("outbound_gateways").begin_object();
    for (const auto& [name, r] : out) {
        w.key(name).begin_object();
        w.field("configured", configured(r->serial));
        connection(w, *r, steady_now, wall_offset);
        w.end_object();
    }
    w.end_object();
    w.key("inbound_gateways").begin_object();
    for (const auto& [name, list] : inb) {
        w.key(name).begin_array();
        for (const broker::route_info_view* r : list) {
            w.begin_object();
            w.field("configured", configured(r->serial));
            connection(w, *r, steady_now, wall_offset);
            w.end_object();
        }
        w.end_array();
    }
    w.end_object();
    w.end_object();
    return w.take();
}

} // namespace natrix::monitor
