#pragma once
// What one natrix-bench run measured, and its two renderings: the human table (stdout) and one
// JSON object (--json). Filled by a scenario on the main thread after its clients have stopped.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <natrix/bench_client/histogram.hh>

namespace natrix::bench_client {

struct throughput {
    std::uint64_t msgs = 0;
    std::uint64_t bytes = 0;      // payload bytes
    std::uint64_t wire_bytes = 0; // protocol bytes on the socket (control lines, headers, CRLF)
    double seconds = 0;           // length of the measured window
    double msgs_per_s() const noexcept { return seconds > 0 ? msgs / seconds : 0; }
    double bytes_per_s() const noexcept { return seconds > 0 ? bytes / seconds : 0; }
    double wire_bytes_per_s() const noexcept { return seconds > 0 ? wire_bytes / seconds : 0; }
};

struct delivery_checks {
    bool enabled = false;
    bool by_count_only = false; // payloads under 16 bytes carry no sequence numbers
    std::uint64_t expected = 0; // deliveries that should have happened
    std::uint64_t received = 0; // deliveries that happened
    std::uint64_t lost = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t unexpected = 0; // messages from no publisher of this run
    bool ok() const noexcept {
        return lost == 0 && duplicated == 0 && out_of_order == 0 && unexpected == 0;
    }
};

struct run_result {
    std::string scenario;
    std::vector<std::pair<std::string, std::string>> config; // shown in the header, in order
    bool has_publish = false;
    std::string publish_label = "publish"; // the table's name for the publish row
    throughput publish;
    bool has_deliver = false;
    throughput deliver;                // summed over subscribers
    bool per_subscriber = false;       // the two figures below are meaningful
    double deliver_min_msgs_per_s = 0; // slowest and fastest single subscriber
    double deliver_max_msgs_per_s = 0;
    std::unique_ptr<latency_histogram> latency; // null when not measured
    std::string latency_label;
    delivery_checks checks;
    std::vector<std::pair<std::string, double>> figures; // scenario-specific numbers
    std::vector<std::string> errors;
    std::vector<std::string> notes;
    double elapsed_s = 0;

    void figure(std::string name, double value) { figures.emplace_back(std::move(name), value); }
    // Exit status: 1 on errors, or on failed checks unless loss is allowed.
    int exit_code(bool allow_loss) const noexcept;
};

std::string render_table(const run_result& r);
std::string render_json(const run_result& r);

// Helpers shared with the compare harness's expectations: SI-ish formatting for the table.
std::string format_rate(double per_s);   // 1.23M, 456k, 789
std::string format_ns(std::uint64_t ns); // 850ns, 12.3us, 4.56ms, 1.2s
std::string format_number(double v);     // 12, 0.25, 14993.2

} // namespace natrix::bench_client
