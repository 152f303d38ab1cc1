#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include <natrix/auth/nkey.hh>
#include <natrix/bench_client/options.hh>

namespace natrix::bench_client {

namespace {

struct scenario_entry {
    scenario kind;
    std::string_view name;
};

constexpr scenario_entry k_scenarios[] = {
    {scenario::pub, "pub"},           {scenario::sub, "sub"},
    {scenario::pubsub, "pubsub"},     {scenario::fanout, "fanout"},
    {scenario::queue, "queue"},       {scenario::reqrep, "reqrep"},
    {scenario::latency, "latency"},   {scenario::conns, "conns"},
    {scenario::tcp_bulk, "tcp-bulk"}, {scenario::tcp_pingpong, "tcp-pingpong"},
};

constexpr int k_max_clients = 65535; // publisher ids are 16 bits in the payload stamp
constexpr std::uint64_t k_max_size = 64ull << 20;

bool parse_u64(std::string_view text, std::uint64_t& out) {
    if (text.empty()) return false;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

bool parse_double(std::string_view text, double& out) {
    if (text.empty()) return false;
    // from_chars for double is in GCC 12's libstdc++.
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size() && std::isfinite(out);
}

bool parse_int(std::string_view text, int lo, int hi, int& out) {
    std::uint64_t v = 0;
    if (!parse_u64(text, v) || v < static_cast<std::uint64_t>(lo) ||
        v > static_cast<std::uint64_t>(hi))
        return false;
    out = static_cast<int>(v);
    return true;
}

// Splits "123k" into the number and its suffix.
std::pair<std::string_view, std::string_view> split_suffix(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
        ++i;
    return {text.substr(0, i), text.substr(i)};
}

bool valid_token(std::string_view s, bool allow_wildcards) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c <= ' ' || c == 0x7f) return false;
        if (!allow_wildcards && (c == '*' || c == '>')) return false;
    }
    if (s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) return false;
    return true;
}

bool read_file(const std::string& path, std::string& out, std::string& why) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        why = std::strerror(errno);
        return false;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out.size() < (1u << 20))
        out.append(buf, n);
    const bool ok = !std::ferror(f);
    if (!ok) why = std::strerror(errno);
    std::fclose(f);
    return ok;
}

// Checks a seed without ever quoting it (it is a secret): empty when usable.
std::string seed_problem(std::string_view seed) {
    const auto kp = auth::nkey::keypair::from_seed(seed);
    if (!kp.ok()) return "invalid seed: " + kp.error;
    if (kp.value->type() != auth::nkey::key_type::user)
        return "the seed makes " + std::string(auth::nkey::type_name(kp.value->type())) +
               " keys; a login needs a user seed (SU...)";
    return {};
}

} // namespace

std::string_view scenario_name(scenario s) noexcept {
    for (const auto& e : k_scenarios)
        if (e.kind == s) return e.name;
    return "?";
}

bool scenario_from_name(std::string_view name, scenario& out) noexcept {
    for (const auto& e : k_scenarios) {
        if (e.name == name) {
            out = e.kind;
            return true;
        }
    }
    return false;
}

std::string server_url::text() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return "nats://" + h + ":" + std::to_string(port);
}

bool parse_server_url(std::string_view text, server_url& out, std::string& error) {
    out = server_url{};
    std::string_view rest = text;
    if (auto p = rest.find("://"); p != std::string_view::npos) {
        const auto scheme = rest.substr(0, p);
        if (scheme != "nats" && scheme != "tcp") {
            error = "unsupported URL scheme '" + std::string(scheme) + "' (use nats://)";
            return false;
        }
        rest.remove_prefix(p + 3);
    }
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        const auto info = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        if (auto colon = info.find(':'); colon != std::string_view::npos) {
            out.user = info.substr(0, colon);
            out.pass = info.substr(colon + 1);
        } else {
            out.token = info;
        }
    }
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated '[' in '" + std::string(text) + "'";
            return false;
        }
        out.host = rest.substr(1, close - 1);
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                error = "bad server URL '" + std::string(text) + "'";
                return false;
            }
            port_text = rest.substr(1);
        }
    } else {
        const auto colon = rest.rfind(':');
        out.host = rest.substr(0, colon);
        if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    }
    if (out.host.empty()) {
        error = "missing host in server URL '" + std::string(text) + "'";
        return false;
    }
    if (!port_text.empty() || rest.find(':') != std::string_view::npos) {
        std::uint64_t port = 0;
        if (!parse_u64(port_text, port) || port == 0 || port > 65535) {
            error = "bad port in server URL '" + std::string(text) + "'";
            return false;
        }
        out.port = static_cast<std::uint16_t>(port);
    }
    return true;
}

bool parse_size(std::string_view text, std::uint64_t& out) {
    auto [num, suffix] = split_suffix(text);
    std::uint64_t v = 0;
    if (!parse_u64(num, v)) return false;
    std::uint64_t mult = 1;
    if (suffix.empty() || suffix == "B" || suffix == "b")
        mult = 1;
    else if (suffix == "K" || suffix == "k" || suffix == "KiB" || suffix == "KB")
        mult = 1024;
    else if (suffix == "M" || suffix == "m" || suffix == "MiB" || suffix == "MB")
        mult = 1 << 20;
    else
        return false;
    if (v > k_max_size / mult) return false;
    out = v * mult;
    return true;
}

bool parse_count(std::string_view text, std::uint64_t& out) {
    auto [num, suffix] = split_suffix(text);
    std::uint64_t v = 0;
    if (!parse_u64(num, v)) return false;
    std::uint64_t mult = 1;
    if (suffix.empty())
        mult = 1;
    else if (suffix == "k" || suffix == "K")
        mult = 1000;
    else if (suffix == "M" || suffix == "m")
        mult = 1000000;
    else if (suffix == "G" || suffix == "g")
        mult = 1000000000;
    else
        return false;
    if (v > UINT64_MAX / mult / 2) return false;
    out = v * mult;
    return true;
}

bool parse_rate(std::string_view text, double& out) {
    auto [num, suffix] = split_suffix(text);
    double v = 0;
    if (!parse_double(num, v) || v < 0) return false;
    if (suffix.empty())
        out = v;
    else if (suffix == "k" || suffix == "K")
        out = v * 1e3;
    else if (suffix == "M" || suffix == "m")
        out = v * 1e6;
    else
        return false;
    return out <= 1e10;
}

bool parse_duration(std::string_view text, double& seconds) {
    auto [num, suffix] = split_suffix(text);
    double v = 0;
    if (!parse_double(num, v) || v < 0) return false;
    if (suffix.empty() || suffix == "s")
        seconds = v;
    else if (suffix == "ms")
        seconds = v / 1e3;
    else if (suffix == "us")
        seconds = v / 1e6;
    else if (suffix == "m" || suffix == "min")
        seconds = v * 60;
    else if (suffix == "h")
        seconds = v * 3600;
    else
        return false;
    return seconds <= 7 * 24 * 3600.0;
}

bool parse_cpu_list(std::string_view text, std::vector<int>& out) {
    out.clear();
    if (text.empty()) return false;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (comma != std::string_view::npos && text.empty()) return false; // trailing comma
        int lo = 0, hi = 0;
        if (auto dash = item.find('-'); dash != std::string_view::npos) {
            if (!parse_int(item.substr(0, dash), 0, 4095, lo) ||
                !parse_int(item.substr(dash + 1), 0, 4095, hi) || hi < lo)
                return false;
        } else {
            if (!parse_int(item, 0, 4095, lo)) return false;
            hi = lo;
        }
        for (int c = lo; c <= hi; ++c) out.push_back(c);
    }
    return true;
}

std::string usage_text() {
    return R"(usage: natrix-bench SCENARIO [options]

scenarios:
  pub           publish only (nothing subscribed): publish rate
  sub           receive from an external natrix-bench publisher (start this first)
  pubsub        N publishers -> M subscribers over K subjects
  fanout        1 publisher -> M subscribers on one subject (default M=4)
  queue         N publishers -> one queue group of M members; checks exactly-once delivery
  reqrep        N requesters -> M responders (a queue group); closed-loop round trips
  latency       open loop at --rate (default 10k/s); latency from the intended send time
  conns         open --clients connections, keep them up with PINGs, report connect rate
  tcp-bulk      loopback TCP stream between two threads, no server: throughput ceiling
  tcp-pingpong  loopback TCP ping-pong, no server: round-trip floor

options:
  -s, --server URL[,URL]  nats://[user:pass@|token@]host:port (default nats://127.0.0.1:4222);
                          repeatable; clients are spread over the servers round-robin
      --user U, --pass P  user/password (override the URL's)
      --token T           auth token
      --nkey-seed SEED    log in as an nkey user: send the seed's public key and sign the
                          server's nonce (SU...; visible in ps, prefer --nkey-seed-file)
      --nkey-seed-file F  the same with the seed read from F (the seed alone, or a .creds file);
                          JWT authentication is not supported
      --subject S         subject, or the base of S.0 .. S.K-1 (default natrix.bench)
      --subjects K        pubsub/queue: K subjects; publisher i and subscriber j use i%K, j%K
  -p, --pubs N            publishers / requesters (default 1)
  -S, --subs M            subscribers / queue members / responders (default 1; fanout, queue 4)
  -c, --clients N         connections for conns (default 100)
  -m, --size BYTES        payload size: 16, 128, 1K, 1KiB, 1M (default 128); sequence and
                          timestamp checks need 16 bytes, smaller payloads are checked by count
  -n, --count N           total messages or requests over all publishers: 100000, 100k, 1M
  -d, --duration T        measured time: 2, 2s, 500ms, 1m (default 5s unless --count)
  -r, --rate R            total messages/s over all publishers, 0 = flat out (latency: 10k)
  -w, --warmup T          unmeasured traffic before the measured window (default 0)
      --headers           publish with HPUB and a small header block
      --cpus LIST         pin client threads round-robin to these cores: 0,1 or 0-3,8
      --batch BYTES       publisher write size (default 64K)
      --max-inflight N    flow-control window in messages (default: 4 MiB worth, 1024..65536)
      --queue NAME        queue group name (default natrix-bench)
      --drain-timeout T   wait this long for missing messages after publishing (default 5s)
      --ping-interval T   conns: PING each connection this often (default 1s)
      --json              one JSON object on stdout instead of the table
      --allow-loss        exit 0 even when messages were lost, duplicated or reordered
  -q, --quiet             no progress line on stderr
  -h, --help              this text

exit status: 0 success; 1 failure (cannot connect, server error, loss, duplicates, disorder,
dropped connections); 2 bad arguments.
)";
}

parse_result parse_args(int argc, const char* const* argv) {
    parse_result r;
    bench_options& o = r.options;
    auto fail = [&](std::string msg) {
        r.ok = false;
        r.error = std::move(msg);
        return r;
    };

    std::optional<int> pubs, subs;
    std::optional<double> rate;
    bool have_scenario = false;
    bool queue_set = false;

    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            r.help = true;
            return r;
        }
        if (arg.empty() || arg[0] != '-') {
            if (have_scenario) return fail("unexpected argument '" + std::string(arg) + "'");
            if (!scenario_from_name(arg, o.kind))
                return fail("unknown scenario '" + std::string(arg) + "'");
            have_scenario = true;
            continue;
        }
        std::string name(arg);
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); eq != std::string::npos && name.rfind("--", 0) == 0) {
            inline_value = name.substr(eq + 1);
            name.resize(eq);
        }
        auto flag = [&](std::initializer_list<std::string_view> names) {
            return std::find(names.begin(), names.end(), name) != names.end();
        };
        // Boolean flags.
        if (flag({"--headers", "--json", "--allow-loss", "-q", "--quiet"})) {
            if (inline_value) return fail("option " + name + " takes no value");
            if (name == "--headers")
                o.headers = true;
            else if (name == "--json")
                o.json = true;
            else if (name == "--allow-loss")
                o.allow_loss = true;
            else
                o.progress = false;
            continue;
        }
        static constexpr std::string_view k_value_options[] = {"-s",
                                                               "--server",
                                                               "--user",
                                                               "--pass",
                                                               "--token",
                                                               "--nkey-seed",
                                                               "--nkey-seed-file",
                                                               "--subject",
                                                               "--subjects",
                                                               "-p",
                                                               "--pubs",
                                                               "-S",
                                                               "--subs",
                                                               "-c",
                                                               "--clients",
                                                               "-m",
                                                               "--size",
                                                               "-n",
                                                               "--count",
                                                               "-d",
                                                               "--duration",
                                                               "-r",
                                                               "--rate",
                                                               "-w",
                                                               "--warmup",
                                                               "--cpus",
                                                               "--batch",
                                                               "--max-inflight",
                                                               "--queue",
                                                               "--drain-timeout",
                                                               "--ping-interval"};
        if (std::find(std::begin(k_value_options), std::end(k_value_options), name) ==
            std::end(k_value_options))
            return fail("unknown option '" + name + "'");
        std::string value;
        if (inline_value) {
            value = *inline_value;
        } else {
            if (i + 1 >= argc) return fail("option " + name + " needs a value");
            value = argv[++i];
        }
        auto bad = [&](std::string_view what) {
            return fail("bad value '" + value + "' for " + name + ": expected " +
                        std::string(what));
        };
        if (flag({"-s", "--server"})) {
            std::string_view rest = value;
            while (true) {
                auto comma = rest.find(',');
                server_url u;
                std::string err;
                if (!parse_server_url(rest.substr(0, comma), u, err)) return fail(err);
                o.servers.push_back(u);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        } else if (name == "--user") {
            o.user = value;
        } else if (name == "--pass") {
            o.pass = value;
        } else if (name == "--token") {
            o.token = value;
        } else if (name == "--nkey-seed") {
            if (auto why = seed_problem(value); !why.empty())
                return fail("bad value for --nkey-seed: " + why);
            o.nkey_seed = value;
        } else if (name == "--nkey-seed-file") {
            std::string text, why;
            if (!read_file(value, text, why))
                return fail("cannot read --nkey-seed-file " + value + ": " + why);
            const std::string_view seed = natrix::auth::nkey::seed_in_text(text);
            if (seed.empty()) return fail("no seed found in --nkey-seed-file " + value);
            if (auto problem = seed_problem(seed); !problem.empty())
                return fail("bad seed in --nkey-seed-file " + value + ": " + problem);
            o.nkey_seed = seed;
            auth::nkey::wipe(text);
        } else if (name == "--subject") {
            if (!valid_token(value, false)) return bad("a subject without spaces or wildcards");
            o.subject = value;
        } else if (name == "--subjects") {
            if (!parse_int(value, 1, 1000000, o.subjects)) return bad("an integer 1..1000000");
        } else if (flag({"-p", "--pubs"})) {
            int v = 0;
            if (!parse_int(value, 0, k_max_clients, v)) return bad("an integer 0..65535");
            pubs = v;
        } else if (flag({"-S", "--subs"})) {
            int v = 0;
            if (!parse_int(value, 0, k_max_clients, v)) return bad("an integer 0..65535");
            subs = v;
        } else if (flag({"-c", "--clients"})) {
            if (!parse_int(value, 1, 1000000, o.clients)) return bad("an integer 1..1000000");
        } else if (flag({"-m", "--size"})) {
            if (!parse_size(value, o.size)) return bad("a size up to 64M, e.g. 128, 1K, 1KiB");
        } else if (flag({"-n", "--count"})) {
            if (!parse_count(value, o.count) || o.count == 0)
                return bad("a positive count, e.g. 100000, 100k, 1M");
        } else if (flag({"-d", "--duration"})) {
            if (!parse_duration(value, o.duration_s) || o.duration_s <= 0)
                return bad("a positive duration, e.g. 2s, 500ms, 1m");
        } else if (flag({"-r", "--rate"})) {
            double v = 0;
            if (!parse_rate(value, v)) return bad("messages per second, e.g. 5000, 50k, 1M");
            rate = v;
        } else if (flag({"-w", "--warmup"})) {
            if (!parse_duration(value, o.warmup_s)) return bad("a duration, e.g. 500ms");
        } else if (name == "--cpus") {
            if (!parse_cpu_list(value, o.cpus)) return bad("a CPU list, e.g. 0,1 or 0-3,8");
        } else if (name == "--batch") {
            if (!parse_size(value, o.batch_bytes) || o.batch_bytes < 1024)
                return bad("a size of at least 1K");
        } else if (name == "--max-inflight") {
            if (!parse_count(value, o.max_inflight) || o.max_inflight == 0)
                return bad("a positive number of messages");
        } else if (name == "--queue") {
            if (!valid_token(value, false)) return bad("a queue name without spaces");
            o.queue_group = value;
            queue_set = true;
        } else if (name == "--drain-timeout") {
            if (!parse_duration(value, o.drain_timeout_s) || o.drain_timeout_s <= 0)
                return bad("a positive duration");
        } else if (name == "--ping-interval") {
            if (!parse_duration(value, o.ping_interval_s) || o.ping_interval_s < 0.001)
                return bad("a duration of at least 1ms");
        } else {
            return fail("unknown option '" + name + "'");
        }
    }
    if (!have_scenario)
        return fail("missing scenario (pub, sub, pubsub, fanout, queue, reqrep, "
                    "latency, conns, tcp-bulk, tcp-pingpong)");

    // Scenario defaults and the combinations that make no sense.
    const auto k = o.kind;
    const std::string sname(scenario_name(k));
    int def_pubs = 1, def_subs = 1;
    if (k == scenario::pub) def_subs = 0;
    if (k == scenario::sub) def_pubs = 0;
    if (k == scenario::fanout || k == scenario::queue) def_subs = 4;
    o.pubs = pubs.value_or(def_pubs);
    o.subs = subs.value_or(def_subs);
    const bool uses_clients =
        k != scenario::conns && k != scenario::tcp_bulk && k != scenario::tcp_pingpong;
    if (k == scenario::pub && o.subs != 0)
        return fail("pub has no subscribers (--subs); use pubsub or fanout");
    if (k == scenario::sub && o.pubs != 0)
        return fail("sub has no publishers (--pubs); use pubsub, or run pub separately");
    if (uses_clients && k != scenario::sub && o.pubs < 1)
        return fail(sname + " needs at least one publisher (--pubs)");
    if (uses_clients && k != scenario::pub && o.subs < 1)
        return fail(sname + " needs at least one subscriber (--subs)");
    if (k == scenario::fanout && o.subjects != 1)
        return fail("fanout uses one subject; use pubsub for --subjects");
    if (queue_set && k != scenario::queue && k != scenario::reqrep)
        return fail("--queue applies to queue and reqrep only");
    if (k == scenario::reqrep && rate)
        return fail("reqrep is a closed loop: --rate does not apply (use latency)");
    if (k == scenario::latency) {
        o.rate = rate.value_or(10000);
        if (o.rate <= 0) return fail("latency needs a positive --rate");
    } else {
        o.rate = rate.value_or(0);
    }
    if (k == scenario::conns && o.count != 0)
        return fail("conns runs for --duration; --count does not apply");
    if (o.servers.empty()) {
        server_url u;
        u.host = "127.0.0.1";
        o.servers.push_back(u);
    }
    if (!o.token.empty() && (!o.user.empty() || !o.pass.empty()))
        return fail("use either --token or --user/--pass, not both");
    if (!o.nkey_seed.empty() && (!o.token.empty() || !o.user.empty() || !o.pass.empty()))
        return fail("use either --nkey-seed or --user/--pass/--token, not both");
    r.ok = true;
    return r;
}

} // namespace natrix::bench_client
