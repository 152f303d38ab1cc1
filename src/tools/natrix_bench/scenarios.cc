// Dispatch and the helpers every scenario shares.
#include <natrix/bench_client/scenarios.hh>

namespace natrix::bench_client {

credentials credentials_of(const bench_options& o) {
    credentials c;
    c.user = o.user;
    c.pass = o.pass;
    c.token = o.token;
    if (!o.nkey_seed.empty()) {
        // parse_args checked the seed.
        auto kp = auth::nkey::keypair::from_seed(o.nkey_seed);
        if (kp.ok()) c.nkey = std::make_shared<const auth::nkey::keypair>(std::move(*kp.value));
    }
    return c;
}

const server_url& server_for(const bench_options& o, int client_index) {
    return o.servers[static_cast<std::size_t>(client_index) % o.servers.size()];
}

void describe_common(const bench_options& o, run_result& r) {
    std::string servers;
    for (const auto& u : o.servers) servers += (servers.empty() ? "" : ",") + u.text();
    r.config.emplace_back("server", servers);
    if (!o.nkey_seed.empty())
        if (auto kp = auth::nkey::keypair::from_seed(o.nkey_seed); kp.ok())
            r.config.emplace_back("auth", "nkey " + kp.value->public_key() + ", nonce signed");
}

run_result run_scenario(const bench_options& o, std::atomic<bool>& abort) {
    switch (o.kind) {
    case scenario::reqrep:
        return run_reqrep(o, abort);
    case scenario::conns:
        return run_conns(o, abort);
    case scenario::tcp_bulk:
    case scenario::tcp_pingpong:
        return run_tcp(o, abort);
    default:
        return run_stream(o, abort);
    }
}

} // namespace natrix::bench_client
