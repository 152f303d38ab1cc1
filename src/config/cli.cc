#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include <natrix/config/cli.hh>
#include <natrix/config/cluster_options.hh>
#include <natrix/config/config_parser.hh>
#include <natrix/config/cpu_list.hh>

#include "fail_closed.hh"

namespace natrix::config {

namespace {

enum class kind { boolean, text };

enum class id {
    help,
    version,
    port,
    addr,
    name,
    http_port,
    config,
    test,
    check_host,
    json,
    debug,
    trace,
    debug_trace,
    logtime,
    log,
    pid,
    max_payload,
    max_traced_msg_len,
    shards,
    cpus,
    idle,
    io,
    unsupported,
    tls, // fail closed: refused, never ignored
    signal,
    user,
    pass,
    auth,
    client_advertise,
    cluster_listen, // --cluster, --cluster_listen
    routes,
    cluster_name,
    cluster_advertise,
    no_advertise,
    connect_retries,
};

struct flag_def {
    std::string_view name;
    kind k;
    id what;
};

// Every flag nats-server 2.9 defines, plus natrix's own. Flags natrix does
// not implement are parsed (so that their value is consumed) and reported.
constexpr flag_def flags[] = {
    {"h", kind::boolean, id::help},
    {"help", kind::boolean, id::help},
    {"help_tls", kind::boolean, id::help},
    {"v", kind::boolean, id::version},
    {"version", kind::boolean, id::version},
    {"p", kind::text, id::port},
    {"port", kind::text, id::port},
    {"a", kind::text, id::addr},
    {"addr", kind::text, id::addr},
    {"net", kind::text, id::addr},
    {"n", kind::text, id::name},
    {"name", kind::text, id::name},
    {"server_name", kind::text, id::name},
    {"m", kind::text, id::http_port},
    {"http_port", kind::text, id::http_port},
    {"c", kind::text, id::config},
    {"config", kind::text, id::config},
    {"t", kind::boolean, id::test},
    {"check-host", kind::boolean, id::check_host},
    {"check_host", kind::boolean, id::check_host},
    {"json", kind::boolean, id::json},
    {"D", kind::boolean, id::debug},
    {"debug", kind::boolean, id::debug},
    {"V", kind::boolean, id::trace},
    {"VV", kind::boolean, id::trace}, // verbose trace adds the system account, which natrix lacks
    {"trace", kind::boolean, id::trace},
    {"DV", kind::boolean, id::debug_trace},
    {"DVV", kind::boolean, id::debug_trace},
    {"T", kind::boolean, id::logtime},
    {"logtime", kind::boolean, id::logtime},
    {"l", kind::text, id::log},
    {"log", kind::text, id::log},
    {"P", kind::text, id::pid},
    {"pid", kind::text, id::pid},
    {"max_payload", kind::text, id::max_payload},
    {"max_traced_msg_len", kind::text, id::max_traced_msg_len},
    {"shards", kind::text, id::shards},
    {"cpus", kind::text, id::cpus},
    {"idle", kind::text, id::idle},
    {"io", kind::text, id::io},
    {"user", kind::text, id::user},
    {"pass", kind::text, id::pass},
    {"auth", kind::text, id::auth},
    {"sl", kind::text, id::signal},
    {"signal", kind::text, id::signal},
    // nats-server flags natrix does not implement yet.
    {"ms", kind::text, id::unsupported},
    {"https_port", kind::text, id::unsupported},
    {"ports_file_dir", kind::text, id::unsupported},
    {"log_size_limit", kind::text, id::unsupported},
    {"s", kind::boolean, id::unsupported},
    {"syslog", kind::boolean, id::unsupported},
    {"r", kind::text, id::unsupported},
    {"remote_syslog", kind::text, id::unsupported},
    {"js", kind::boolean, id::unsupported},
    {"jetstream", kind::boolean, id::unsupported},
    {"sd", kind::text, id::unsupported},
    {"store_dir", kind::text, id::unsupported},
    {"tls", kind::boolean, id::tls},
    {"tlsverify", kind::boolean, id::tls},
    {"tlscert", kind::text, id::tls},
    {"tlskey", kind::text, id::tls},
    {"tlscacert", kind::text, id::tls},
    {"client_advertise", kind::text, id::client_advertise},
    {"routes", kind::text, id::routes},
    {"cluster", kind::text, id::cluster_listen},
    {"cluster_listen", kind::text, id::cluster_listen},
    {"cluster_advertise", kind::text, id::cluster_advertise},
    {"cluster_name", kind::text, id::cluster_name},
    {"no_advertise", kind::boolean, id::no_advertise},
    {"connect_retries", kind::text, id::connect_retries},
    {"profile", kind::text, id::unsupported},
};

const flag_def* find_flag(std::string_view name) {
    for (const flag_def& f : flags)
        if (f.name == name) return &f;
    return nullptr;
}

// strconv.ParseBool.
std::optional<bool> go_bool(std::string_view s) {
    for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
        if (s == t) return true;
    for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
        if (s == f) return false;
    return std::nullopt;
}

std::optional<std::int64_t> integer(std::string_view s) {
    std::int64_t v = 0;
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// What the flags set; absent = leave the config file's value alone.
struct overrides {
    std::optional<std::string> host, server_name, log_file, pid_file, idle, io, user, pass, token;
    std::optional<int> port, http_port, max_traced_msg_len;
    std::optional<bool> debug, trace, logtime;
    std::optional<std::int64_t> max_payload;
    std::optional<std::uint32_t> shards;
    std::optional<std::vector<int>> cpus;
    // Cluster flags. cluster: --cluster URL (port 0: clustering off);
    // routes: --routes (empty: the file's routes are dropped).
    std::optional<std::string> client_advertise, cluster_name, cluster_advertise;
    std::optional<cluster_listen> cluster;
    std::optional<std::vector<cluster::route_url>> routes;
    std::optional<bool> no_advertise;
    std::optional<int> connect_retries;
    // TLS flags: --tls, --tlsverify, --tlscert, --tlskey, --tlscacert.
    std::optional<bool> tls, tls_verify;
    std::optional<std::string> tls_cert, tls_key, tls_ca;
};

struct cli_state {
    overrides over;
    std::string config_file;
    bool test = false, help = false, version = false, check_host = false, json = false;
    std::vector<config_warning> warnings;
    std::vector<std::string> ignored; // unsupported flags given, "-routes"
    std::string error;
    bool fail_closed = false; // error refuses a flag natrix must not ignore
};

std::string invalid(std::string_view value, std::string_view flag, std::string_view why) {
    return "invalid value \"" + std::string(value) + "\" for flag -" + std::string(flag) + ": " +
           std::string(why);
}

// Applies one flag; returns false with st.error set.
bool apply_flag(cli_state& st, const flag_def& f, std::string_view arg, bool set) {
    overrides& o = st.over;
    const std::string_view n = f.name;
    switch (f.what) {
    case id::help:
        st.help = st.help || set;
        return true;
    case id::version:
        st.version = st.version || set;
        return true;
    case id::test:
        st.test = set;
        return true;
    case id::check_host:
        st.check_host = set;
        return true;
    case id::json:
        st.json = set;
        return true;
    case id::debug:
        o.debug = set;
        return true;
    case id::trace:
        o.trace = set;
        return true;
    case id::debug_trace:
        if (set) o.debug = o.trace = true; // like nats-server, -DV=false changes nothing
        return true;
    case id::logtime:
        o.logtime = set;
        return true;
    case id::port:
    case id::http_port: {
        auto v = integer(arg);
        if (!v) return st.error = invalid(arg, n, "parse error"), false;
        if (*v < -1 || *v > 65535)
            return st.error = invalid(arg, n, "a port is -1 (any free port) to 65535"), false;
        // As in nats-server, 0 means "not given": the file's value stays.
        if (*v == 0) return true;
        if (f.what == id::port)
            o.port = *v == -1 ? 0 : static_cast<int>(*v);
        else
            o.http_port = static_cast<int>(*v);
        return true;
    }
    case id::addr:
        if (!arg.empty()) o.host = std::string(arg);
        return true;
    case id::name:
        if (arg.find(' ') != std::string_view::npos)
            return st.error = invalid(arg, n, "server name cannot contain spaces"), false;
        if (!arg.empty()) o.server_name = std::string(arg);
        return true;
    case id::config:
        st.config_file = std::string(arg);
        return true;
    case id::user:
        o.user = std::string(arg);
        return true;
    case id::pass:
        o.pass = std::string(arg);
        return true;
    case id::auth:
        o.token = std::string(arg);
        return true;
    case id::log:
        if (!arg.empty()) o.log_file = std::string(arg);
        return true;
    case id::pid:
        if (!arg.empty()) o.pid_file = std::string(arg);
        return true;
    case id::max_payload: {
        // Same syntax as the file ("2MB"), so parse it as a config value.
        parse_options po;
        po.allow_includes = false;
        po.use_environment = false;
        parse_result r = parse_string("max_payload: " + std::string(arg), "--max_payload", po);
        const value* v =
            r.ok() && r.root.as_map().size() == 1 ? r.root.find("max_payload") : nullptr;
        if (!v || !v->is_integer() || v->as_integer() <= 0 || v->as_integer() > INT32_MAX)
            return st.error = invalid(arg, n, "expected a size such as 1048576 or 2MB"), false;
        o.max_payload = v->as_integer();
        return true;
    }
    case id::max_traced_msg_len: {
        auto v = integer(arg);
        if (!v || *v < INT32_MIN || *v > INT32_MAX)
            return st.error = invalid(arg, n, "parse error"), false;
        o.max_traced_msg_len = static_cast<int>(*v);
        return true;
    }
    case id::shards: {
        auto v = integer(arg);
        if (!v || *v < 0 || *v > max_cpu_id + 1)
            return st.error = invalid(arg, n, "expected a shard count (0 = one per core)"), false;
        o.shards = static_cast<std::uint32_t>(*v);
        return true;
    }
    case id::cpus: {
        std::vector<int> list;
        std::string why;
        if (!parse_cpu_list(arg, &list, &why)) return st.error = invalid(arg, n, why), false;
        o.cpus = std::move(list);
        return true;
    }
    case id::idle:
        if (arg != "spin" && arg != "backoff" && arg != "sleep")
            return st.error = invalid(arg, n, "expected spin, backoff or sleep"), false;
        o.idle = std::string(arg);
        return true;
    case id::io:
        if (arg != "uring" && arg != "epoll" && arg != "auto")
            return st.error = invalid(arg, n, "expected uring, epoll or auto"), false;
        o.io = std::string(arg);
        return true;
    case id::client_advertise:
    case id::cluster_advertise: {
        if (arg.empty()) return true; // as other strings: changes nothing
        std::string why;
        if (!check_advertise(arg, &why)) return st.error = invalid(arg, n, why), false;
        (f.what == id::client_advertise ? o.client_advertise : o.cluster_advertise) =
            std::string(arg);
        return true;
    }
    case id::cluster_listen: {
        // nats-server's overrideCluster: an empty URL turns clustering off.
        cluster_listen c;
        std::string why;
        if (!arg.empty() && !parse_cluster_listen(arg, &c, &why))
            return st.error = invalid(redact_url(arg), n, why), false;
        o.cluster = std::move(c);
        return true;
    }
    case id::routes: {
        // A comma-separated list; an empty one drops the file's routes.
        std::vector<cluster::route_url> list;
        std::string_view rest = arg;
        for (bool more = !arg.empty(); more;) {
            const std::size_t comma = rest.find(',');
            const std::string_view item = rest.substr(0, comma);
            cluster::route_url r;
            std::string why;
            if (!parse_route_url(item, &r, &why))
                return st.error = "invalid value for flag -" + std::string(n) +
                                  ": error parsing route url [\"" + redact_url(item) +
                                  "\"]: " + why,
                       false;
            list.push_back(std::move(r));
            more = comma != std::string_view::npos;
            if (more) rest.remove_prefix(comma + 1);
        }
        o.routes = std::move(list);
        return true;
    }
    case id::cluster_name:
        if (arg.find_first_of(" \t\r\n") != std::string_view::npos)
            return st.error = invalid(arg, n, "cluster name cannot contain spaces"), false;
        if (!arg.empty()) o.cluster_name = std::string(arg);
        return true;
    case id::no_advertise:
        o.no_advertise = set;
        return true;
    case id::connect_retries: {
        auto v = integer(arg);
        if (!v || *v < INT32_MIN || *v > INT32_MAX)
            return st.error = invalid(arg, n, "parse error"), false;
        o.connect_retries = static_cast<int>(std::max<std::int64_t>(*v, 0));
        return true;
    }
    case id::signal:
        st.error =
            "flag -" + std::string(n) +
            " is not supported by natrix: send the signal to the natrix process with kill(1)";
        return false;
    case id::tls:
        // nats-server's TLS flags: any of them turns client TLS on, over the
        // file's tls block (cert and key are then required).
        if (n == "tls")
            o.tls = set;
        else if (n == "tlsverify")
            o.tls_verify = set;
        else if (n == "tlscert")
            o.tls_cert = std::string(arg);
        else if (n == "tlskey")
            o.tls_key = std::string(arg);
        else
            o.tls_ca = std::string(arg);
        return true;
    case id::unsupported:
        st.warnings.push_back(
            config_warning{"-" + std::string(n),
                           "flag -" + std::string(n) + " is not supported by natrix yet; ignored"});
        if (std::find(st.ignored.begin(), st.ignored.end(), "-" + std::string(n)) ==
            st.ignored.end())
            st.ignored.push_back("-" + std::string(n));
        return true;
    }
    return true;
}

// Go's flag.FlagSet.Parse, then nats-server's look at the first leftover.
bool parse_flags(const std::vector<std::string>& args, cli_state& st) {
    std::size_t i = 0;
    while (i < args.size()) {
        std::string_view a = args[i];
        if (a.size() < 2 || a[0] != '-') break;
        ++i;
        std::string_view name = a.substr(1);
        if (name[0] == '-') {
            name.remove_prefix(1);
            if (name.empty()) break; // "--" ends the flags
        }
        if (name.empty() || name[0] == '-' || name[0] == '=') {
            st.error = "bad flag syntax: " + std::string(a);
            return false;
        }
        std::string_view value;
        bool has_value = false;
        if (std::size_t eq = name.find('='); eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        const flag_def* f = find_flag(name);
        if (!f) {
            st.error = "flag provided but not defined: -" + std::string(name);
            return false;
        }
        if (f->k == kind::boolean) {
            bool set = true;
            if (has_value) {
                auto b = go_bool(value);
                if (!b) {
                    st.error = "invalid boolean value \"" + std::string(value) + "\" for -" +
                               std::string(name) + ": parse error";
                    return false;
                }
                set = *b;
            }
            if (!apply_flag(st, *f, {}, set)) return false;
            continue;
        }
        if (!has_value) {
            if (i >= args.size()) {
                st.error = "flag needs an argument: -" + std::string(name);
                return false;
            }
            value = args[i++];
        }
        if (!apply_flag(st, *f, value, true)) return false;
    }
    if (i < args.size()) {
        std::string cmd = args[i];
        for (char& c : cmd)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (cmd == "version")
            st.version = true;
        else if (cmd == "help")
            st.help = true;
        else {
            st.error = "unrecognized command: \"" + args[i] + "\"";
            return false;
        }
    }
    return true;
}

void apply_overrides(const overrides& o, server_options& opts) {
    if (o.host) {
        opts.host = *o.host;
        if (!config_sets_http_host(*opts.tree)) opts.http_host = *o.host;
    }
    if (o.port) opts.port = *o.port;
    if (o.server_name) opts.server_name = *o.server_name;
    if (o.http_port) opts.http_port = *o.http_port;
    if (o.debug) opts.debug = *o.debug;
    if (o.trace) opts.trace = *o.trace;
    if (o.logtime) opts.logtime = *o.logtime;
    if (o.log_file) opts.log_file = *o.log_file;
    if (o.pid_file) opts.pid_file = *o.pid_file;
    if (o.max_payload) opts.max_payload = *o.max_payload;
    if (o.max_traced_msg_len) opts.max_traced_msg_len = *o.max_traced_msg_len;
    if (o.shards) opts.natrix.shards = *o.shards;
    if (o.cpus) opts.natrix.cpus = *o.cpus;
    if (o.idle) opts.natrix.idle_strategy = *o.idle;
    if (o.io) opts.natrix.io_backend = *o.io;
    // nats-server's --user/--pass/--auth: the single user or the token,
    // over the file's (a users list, when present, still decides).
    if (o.user) opts.security.user = *o.user;
    if (o.pass) opts.security.password = *o.pass;
    if (o.token) opts.security.token = *o.token;
    if (o.client_advertise) opts.client_advertise = *o.client_advertise;
    cluster::cluster_config& c = opts.cluster;
    if (o.cluster) {
        // nats-server's overrideCluster: the URL's host and port, and its
        // user and password, which replace (or clear) the file's
        // authorization. Port 0 (or an empty URL) turns clustering off.
        if (o.cluster->port == 0) {
            c.enabled = false;
            c.port = 0;
        } else {
            c.enabled = true;
            c.host = o.cluster->host;
            c.port = o.cluster->port == -1 ? 0 : o.cluster->port;
            c.user = o.cluster->user;
            c.password = o.cluster->password;
        }
    }
    if (o.routes) c.routes = *o.routes;
    if (o.cluster_name) c.name = *o.cluster_name;
    if (o.cluster_advertise) c.advertise = *o.cluster_advertise;
    if (o.no_advertise) c.no_advertise = *o.no_advertise;
    if (o.connect_retries) c.connect_retries = *o.connect_retries;
    if (o.tls.value_or(false) || o.tls_verify.value_or(false) || o.tls_cert || o.tls_key ||
        o.tls_ca) {
        tls::tls_config& t = opts.tls;
        t.enabled = true;
        if (o.tls_cert) t.cert_file = *o.tls_cert;
        if (o.tls_key) t.key_file = *o.tls_key;
        if (o.tls_ca) t.ca_file = *o.tls_ca;
        if (o.tls_verify) t.verify = *o.tls_verify;
    }
}

} // namespace

load_result load_server_options(const std::vector<std::string>& args) {
    load_result result;
    cli_state st;
    if (!parse_flags(args, st)) {
        result.error = std::move(st.error);
        result.usage_error = !st.fail_closed; // the flag is understood, just refused
        return result;
    }
    // nats-server answers --version before --help, and both before reading
    // any config.
    if (st.version || st.help) {
        result.action = st.version ? cli_action::version : cli_action::help;
        return result;
    }
    if (st.json && !st.check_host) {
        result.error = "flag -json goes with --check-host";
        result.usage_error = true;
        return result;
    }
    result.json = st.json;
    result.action = st.check_host ? cli_action::check_host
                    : st.test     ? cli_action::test_config
                                  : cli_action::run;

    options_result loaded;
    if (st.config_file.empty()) {
        parse_result parsed = parse_string(builtin_default_config, "<built-in>");
        if (!parsed.ok()) { // a bug in the constant; tests keep it from happening
            result.error = parsed.error;
            return result;
        }
        loaded = options_from_tree(std::make_shared<const value>(std::move(parsed.root)), "");
    } else {
        parse_result parsed = parse_file(st.config_file);
        if (!parsed.ok()) {
            result.error = std::move(parsed.error);
            result.options.config_file = st.config_file;
            return result;
        }
        loaded = options_from_tree(std::make_shared<const value>(std::move(parsed.root)),
                                   st.config_file);
    }
    result.warnings = std::move(loaded.warnings);
    result.warnings.insert(result.warnings.end(), st.warnings.begin(), st.warnings.end());
    result.options = std::move(loaded.options);
    if (!loaded.ok()) {
        result.error = loaded.error_text();
        return result;
    }
    for (std::string& flag : st.ignored) result.options.ignored_keys.push_back(std::move(flag));
    apply_overrides(st.over, result.options);
    std::vector<std::string> errors;
    const cluster::cluster_config& cluster = result.options.cluster;
    if (st.over.routes && !st.over.routes->empty() && !cluster.enabled)
        errors.push_back("solicited routes require cluster capabilities, e.g. --cluster");
    // The file's "routes without a cluster port" warning no longer holds.
    if (cluster.enabled || st.over.routes)
        std::erase_if(result.warnings,
                      [](const config_warning& w) { return w.key == "cluster.routes"; });
    const tls::tls_config& tls = result.options.tls;
    if (tls.enabled && (tls.cert_file.empty() || tls.key_file.empty()))
        errors.push_back("TLS Server certificate must be present and valid (--tlscert and "
                         "--tlskey, or cert_file and key_file in the tls block)");
    std::vector<std::string> validated = validate_options(result.options);
    errors.insert(errors.end(), validated.begin(), validated.end());
    for (const std::string& e : errors) {
        if (!result.error.empty()) result.error += '\n';
        result.error += e;
    }
    return result;
}

load_result load_server_options(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i] ? argv[i] : "");
    return load_server_options(args);
}

std::string usage_text() {
    return R"(Usage: natrix [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222; -1: any free port)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
        --client_advertise <string>  Client URL to advertise to other servers
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -c, --config <file>              Configuration file (nats-server syntax;
                                     default: the built-in configuration)
    -t                               Test configuration and exit
        --check-host [--json]        Check this machine against the configuration
                                     (io_uring, cpus, IRQs, governor, memory, limits,
                                     sysctls), print each finding with its fix, and
                                     exit: 0 when nothing fails, 1 otherwise
        --max_payload <size>         Maximum message payload, e.g. 1048576 or 2MB

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
                                     (nats-route://[user:pass@]host:port, comma separated)
        --cluster <cluster-url>      Cluster URL for solicited routes, e.g. nats://0.0.0.0:6222
                                     (also --cluster_listen; port -1: any free port)
        --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
        --no_advertise <bool>        Do not advertise known cluster information to clients
        --cluster_advertise <string> Cluster URL to advertise to other servers
        --connect_retries <number>   For implicit routes, number of connect retries

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -DV                              Debug and trace
        --max_traced_msg_len <len>   Maximum printable length for traced messages
                                     (0 for unlimited)

natrix Options:
        --shards <n>                 Number of shards (default: 0 = one per allowed core)
        --cpus <list>                Cores to run on, e.g. 0-3,6 (default: all allowed)
        --idle <strategy>            Idle shards: spin, backoff or sleep (default: backoff)
        --io <backend>               I/O backend: uring, epoll or auto (default: auto = io_uring
                                     where available, else epoll)

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version

Flags take --flag=value or --flag value, with one or two dashes; boolean flags
take --flag or --flag=false. Flags override the configuration file. Other
nats-server flags (--jetstream, --syslog, ...) are accepted with a warning
and ignored: natrix does not implement them yet.
)";
}

} // namespace natrix::config
