#pragma once
// The scenarios natrix-bench runs. Each one connects its clients, runs to the end (count,
// duration, or abort set by SIGINT) and returns what it measured; failures are in
// run_result::errors rather than thrown. Called from the main thread.
#include <atomic>

#include <natrix/bench_client/client_conn.hh>
#include <natrix/bench_client/options.hh>
#include <natrix/bench_client/run_result.hh>

namespace natrix::bench_client {

// pub, sub, pubsub, fanout, queue and latency share one engine of publishers and subscribers.
run_result run_stream(const bench_options& o, std::atomic<bool>& abort);
run_result run_reqrep(const bench_options& o, std::atomic<bool>& abort);
run_result run_conns(const bench_options& o, std::atomic<bool>& abort);
run_result run_tcp(const bench_options& o, std::atomic<bool>& abort); // tcp-bulk, tcp-pingpong
run_result run_scenario(const bench_options& o, std::atomic<bool>& abort);

// Shared by the scenarios.
credentials credentials_of(const bench_options& o);
const server_url& server_for(const bench_options& o, int client_index);
void describe_common(const bench_options& o, run_result& r);

} // namespace natrix::bench_client
