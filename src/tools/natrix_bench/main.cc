// natrix-bench: the bundled NATS load generator. See docs/benchmarking.md.
#include <atomic>
#include <csignal>
#include <cstdio>

#include <unistd.h>

#include <natrix/bench_client/options.hh>
#include <natrix/bench_client/scenarios.hh>

namespace {

std::atomic<bool> g_abort{false};

void on_interrupt(int) {
    g_abort.store(true);
}

} // namespace

int main(int argc, char** argv) {
    using namespace natrix::bench_client;
    const auto parsed = parse_args(argc, argv);
    if (parsed.help) {
        std::fputs(usage_text().c_str(), stdout);
        return 0;
    }
    if (!parsed.ok) {
        std::fprintf(stderr, "natrix-bench: %s\n\n%s", parsed.error.c_str(), usage_text().c_str());
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    const auto& o = parsed.options;
    run_result r = run_scenario(o, g_abort);
    if (g_abort.load() && r.errors.empty()) r.notes.push_back("interrupted: partial results");
    const std::string text = o.json ? render_json(r) : render_table(r);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    for (const auto& e : r.errors) std::fprintf(stderr, "natrix-bench: error: %s\n", e.c_str());
    if (r.checks.enabled && !r.checks.ok())
        std::fprintf(stderr, "natrix-bench: %s: %llu lost, %llu duplicated, %llu out of order%s\n",
                     o.allow_loss ? "warning" : "error",
                     static_cast<unsigned long long>(r.checks.lost),
                     static_cast<unsigned long long>(r.checks.duplicated),
                     static_cast<unsigned long long>(r.checks.out_of_order),
                     o.allow_loss ? " (allowed by --allow-loss)" : "");
    return r.exit_code(o.allow_loss);
}
