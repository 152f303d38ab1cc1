#include <cinttypes>
#include <cmath>
#include <cstdio>

#include <natrix/bench_client/run_result.hh>

namespace natrix::bench_client {

namespace {

struct pct {
    const char* name;
    double p;
};
constexpr pct k_percentiles[] = {
    {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99_9", 99.9}, {"p99_99", 99.99}};

void json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

void json_number(std::string& out, double v) {
    char buf[64];
    if (!std::isfinite(v)) v = 0;
    if (v == std::floor(v) && std::fabs(v) < 9e15)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.6g", v);
    out += buf;
}

void json_u64(std::string& out, std::uint64_t v) {
    out += std::to_string(v);
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

void json_throughput(std::string& out, const throughput& t) {
    out += "{\"msgs\":";
    json_u64(out, t.msgs);
    out += ",\"bytes\":";
    json_u64(out, t.bytes);
    out += ",\"wire_bytes\":";
    json_u64(out, t.wire_bytes);
    out += ",\"seconds\":";
    json_number(out, t.seconds);
    out += ",\"msgs_per_s\":";
    json_number(out, t.msgs_per_s());
    out += ",\"bytes_per_s\":";
    json_number(out, t.bytes_per_s());
    out += ",\"wire_bytes_per_s\":";
    json_number(out, t.wire_bytes_per_s());
    out += '}';
}

} // namespace

int run_result::exit_code(bool allow_loss) const noexcept {
    if (!errors.empty()) return 1;
    if (checks.enabled && !checks.ok() && !allow_loss) return 1;
    return 0;
}

std::string format_rate(double v) {
    if (v >= 1e9) return fmt("%.2fG", v / 1e9);
    if (v >= 1e6) return fmt("%.2fM", v / 1e6);
    if (v >= 1e4) return fmt("%.1fk", v / 1e3);
    return fmt("%.0f", v);
}

std::string format_ns(std::uint64_t ns) {
    const double v = static_cast<double>(ns);
    if (ns < 1000) return fmt("%.0fns", v);
    if (ns < 1000000) return fmt("%.1fus", v / 1e3);
    if (ns < 1000000000) return fmt("%.2fms", v / 1e6);
    return fmt("%.2fs", v / 1e9);
}

std::string format_number(double v) {
    if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) return fmt("%.0f", v);
    if (std::fabs(v) >= 100) return fmt("%.1f", v);
    return fmt("%.4g", v);
}

std::string render_table(const run_result& r) {
    std::string out = "natrix-bench " + r.scenario + "\n";
    for (const auto& [k, v] : r.config) out += "  " + k + ": " + v + "\n";
    auto row = [&](const char* name, const throughput& t) {
        char buf[160];
        std::snprintf(
            buf, sizeof buf, "  %-8s %14" PRIu64 " msgs  %10s msg/s  %10s B/s  %10s B/s wire\n",
            name, t.msgs, format_rate(t.msgs_per_s()).c_str(), format_rate(t.bytes_per_s()).c_str(),
            format_rate(t.wire_bytes_per_s()).c_str());
        out += buf;
    };
    if (r.has_publish || r.has_deliver) out += "throughput (measured window)\n";
    if (r.has_publish) row(r.publish_label.c_str(), r.publish);
    if (r.has_deliver) {
        row("deliver", r.deliver);
        if (r.per_subscriber)
            out += "  per subscriber: slowest " + format_rate(r.deliver_min_msgs_per_s) +
                   " msg/s, fastest " + format_rate(r.deliver_max_msgs_per_s) + " msg/s\n";
    }
    if (r.latency && r.latency->count() > 0) {
        const auto& h = *r.latency;
        out += "latency, " + r.latency_label + " (n=" + std::to_string(h.count()) + ")\n ";
        out += " min " + format_ns(h.min());
        for (const auto& p : k_percentiles) {
            std::string name = p.name;
            for (auto& c : name)
                if (c == '_') c = '.';
            out += "  " + name + " " + format_ns(h.percentile(p.p));
        }
        out += "  max " + format_ns(h.max()) + "  mean " +
               format_ns(static_cast<std::uint64_t>(h.mean())) + "\n";
    }
    for (const auto& [k, v] : r.figures) out += "  " + k + ": " + format_number(v) + "\n";
    if (r.checks.enabled) {
        const auto& c = r.checks;
        out += "checks" + std::string(c.by_count_only ? " (by count: payload < 16 B)" : "") +
               ": expected " + std::to_string(c.expected) + ", received " +
               std::to_string(c.received) + ", lost " + std::to_string(c.lost) + ", duplicated " +
               std::to_string(c.duplicated) + ", out of order " + std::to_string(c.out_of_order);
        if (c.unexpected) out += ", unexpected " + std::to_string(c.unexpected);
        out += c.ok() ? "  OK\n" : "  FAILED\n";
    }
    for (const auto& n : r.notes) out += "note: " + n + "\n";
    for (const auto& e : r.errors) out += "error: " + e + "\n";
    out += fmt("elapsed %.2f s\n", r.elapsed_s);
    return out;
}

std::string render_json(const run_result& r) {
    std::string out = "{\"tool\":\"natrix-bench\",\"scenario\":";
    json_string(out, r.scenario);
    out += ",\"config\":{";
    bool first = true;
    for (const auto& [k, v] : r.config) {
        if (!first) out += ',';
        first = false;
        json_string(out, k);
        out += ':';
        json_string(out, v);
    }
    out += '}';
    if (r.has_publish) {
        out += ",\"publish\":";
        json_throughput(out, r.publish);
    }
    if (r.has_deliver) {
        out += ",\"deliver\":";
        json_throughput(out, r.deliver);
        out += ",\"deliver_per_sub_min_msgs_per_s\":";
        json_number(out, r.deliver_min_msgs_per_s);
        out += ",\"deliver_per_sub_max_msgs_per_s\":";
        json_number(out, r.deliver_max_msgs_per_s);
    }
    if (r.latency && r.latency->count() > 0) {
        const auto& h = *r.latency;
        out += ",\"latency_ns\":{\"kind\":";
        json_string(out, r.latency_label);
        out += ",\"count\":";
        json_u64(out, h.count());
        out += ",\"min\":";
        json_u64(out, h.min());
        out += ",\"mean\":";
        json_number(out, std::round(h.mean()));
        for (const auto& p : k_percentiles) {
            out += ",\"";
            out += p.name;
            out += "\":";
            json_u64(out, h.percentile(p.p));
        }
        out += ",\"max\":";
        json_u64(out, h.max());
        out += '}';
    }
    out += ",\"figures\":{";
    first = true;
    for (const auto& [k, v] : r.figures) {
        if (!first) out += ',';
        first = false;
        json_string(out, k);
        out += ':';
        json_number(out, v);
    }
    out += '}';
    if (r.checks.enabled) {
        const auto& c = r.checks;
        out += ",\"checks\":{\"by_count_only\":";
        out += c.by_count_only ? "true" : "false";
        out += ",\"expected\":" + std::to_string(c.expected);
        out += ",\"received\":" + std::to_string(c.received);
        out += ",\"lost\":" + std::to_string(c.lost);
        out += ",\"duplicated\":" + std::to_string(c.duplicated);
        out += ",\"out_of_order\":" + std::to_string(c.out_of_order);
        out += ",\"unexpected\":" + std::to_string(c.unexpected);
        out += ",\"ok\":";
        out += c.ok() ? "true" : "false";
        out += '}';
    }
    out += ",\"notes\":[";
    for (std::size_t i = 0; i < r.notes.size(); ++i) {
        if (i) out += ',';
        json_string(out, r.notes[i]);
    }
    out += "],\"errors\":[";
    for (std::size_t i = 0; i < r.errors.size(); ++i) {
        if (i) out += ',';
        json_string(out, r.errors[i]);
    }
    out += "],\"elapsed_s\":";
    json_number(out, r.elapsed_s);
    out += "}\n";
    return out;
}

} // namespace natrix::bench_client
