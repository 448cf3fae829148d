// Export throughput of the OTLP exporter: span encoding, batch encoding with gzip, and whole
// batches sent over HTTP to a receiver on 127.0.0.1 in the same process (libmicrohttpd, which
// reads and discards the body and replies with status 200).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "exporter/otlp/batch_exporter.h"
#include "exporter/otlp/otlp_sink.h"
#include "spdlog/spdlog.h"

namespace jamjet::otlp {
namespace {

std::atomic<uint64_t> received_bytes{0};

MHD_Result Receive(void*, MHD_Connection* connection, const char*, const char*, const char*,
                   const char*, size_t* upload_size, void** state) {
  if (*state == nullptr) {  // first call: headers only
    *state = connection;
    return MHD_YES;
  }
  if (*upload_size != 0) {
    received_bytes += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  MHD_Response* response = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
  MHD_Result result = MHD_queue_response(connection, MHD_HTTP_OK, response);
  MHD_destroy_response(response);
  return result;
}

// Starts the receiver once and returns its URL.
const std::string& ReceiverUrl() {
  static const std::string url = [] {
    MHD_Daemon* daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, nullptr, nullptr,
                                          &Receive, nullptr, MHD_OPTION_END);
    const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return "http://127.0.0.1:" + std::to_string(info->port) + "/v1/traces";
  }();
  return url;
}

Span MakeSpan(int index) {
  Span span;
  span.name = "chat gpt-4o-mini";
  span.trace_id = fmt::format("{:032x}", 0x1234567890abcdefULL * (index + 1));
  span.span_id = fmt::format("{:016x}", index + 1);
  span.start_time_unix_nano = 1'700'000'000'000'000'000ULL + index * 1'000'000ULL;
  span.end_time_unix_nano = span.start_time_unix_nano + 250'000'000;
  span.status_code = StatusCode::kOk;
  span.attributes = {{"gen_ai.system", std::string("openai")},
                     {"gen_ai.request.model", std::string("gpt-4o-mini")},
                     {"gen_ai.usage.input_tokens", int64_t{1200 + index % 100}},
                     {"gen_ai.usage.output_tokens", int64_t{300}},
                     {"gen_ai.usage.cost", 0.000425},
                     {"gen_ai.request.stream", index % 2 == 0},
                     {"gen_ai.response.finish_reasons", std::vector<std::string>{"stop"}},
                     {"server.address", std::string("api.openai.com")}};
  span.resource = {{"process.pid", int64_t{4000 + index % 3}},
                   {"service.name", fmt::format("service-{}", index % 3)}};
  return span;
}

std::vector<EncodedSpan> MakeBatch(size_t count) {
  Resource host = CompleteHostResource(DetectHostResource());
  std::vector<EncodedSpan> batch;
  for (size_t i = 0; i < count; ++i) {
    Span span = MakeSpan(static_cast<int>(i));
    batch.push_back({EncodeResource(span.resource, host), EncodeSpan(span)});
  }
  return batch;
}

OtlpConfig BenchConfig() {
  OtlpConfig config;
  config.endpoint = ReceiverUrl();
  config.metrics_port = 0;
  config.summary_interval_s = 0;
  config.flush_interval_ms = 50;
  return config;
}

void BM_EncodeSpan(benchmark::State& state) {
  Resource host = CompleteHostResource(DetectHostResource());
  Span span = MakeSpan(7);
  for (auto _ : state) {
    benchmark::DoNotOptimize(EncodeResource(span.resource, host));
    benchmark::DoNotOptimize(EncodeSpan(span));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeSpan);

void BM_BuildRequestAndGzip(benchmark::State& state) {
  std::vector<EncodedSpan> batch = MakeBatch(512);
  for (auto _ : state) {
    std::string body = BuildRequest(batch);
    benchmark::DoNotOptimize(Gzip(body));
  }
  state.SetItemsProcessed(state.iterations() * batch.size());
}
BENCHMARK(BM_BuildRequestAndGzip)->Unit(benchmark::kMillisecond);

// One thread builds, compresses and posts 512-span batches: the sender thread's work.
void BM_ExportBatchOverHttp(benchmark::State& state) {
  OtlpConfig config = BenchConfig();
  config.gzip = state.range(0) != 0;
  ExportStats stats;
  BatchExporter exporter(config, std::move(*HttpSender::Create(config)), stats);
  std::vector<EncodedSpan> batch = MakeBatch(512);
  for (auto _ : state) exporter.Export(batch);
  if (stats.exported() != state.iterations() * batch.size()) state.SkipWithError("spans lost");
  state.SetItemsProcessed(state.iterations() * batch.size());
}
BENCHMARK(BM_ExportBatchOverHttp)->Arg(1)->Arg(0)->ArgName("gzip")->Unit(benchmark::kMillisecond);

// The whole sink: Export on this thread, batching and sending on the sender thread.
void BM_SinkEndToEnd(benchmark::State& state) {
  OtlpConfig config = BenchConfig();
  config.disk_queue = state.range(0) != 0;
  config.state_dir = "/tmp/jamjet-otlp-bench";
  std::filesystem::remove_all(config.state_dir);
  auto sink = OtlpSink::Create(config, DetectHostResource());
  constexpr int kSpans = 20'000;
  std::vector<Span> spans;
  for (int i = 0; i < kSpans; ++i) spans.push_back(MakeSpan(i));
  uint64_t target = 0;
  for (auto _ : state) {
    for (const Span& span : spans) (*sink)->Export(span);
    target += kSpans;
    (*sink)->Flush();
    while ((*sink)->exported() + (*sink)->dropped() < target) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  if ((*sink)->dropped() != 0) state.SkipWithError("spans dropped");
  state.SetItemsProcessed(state.iterations() * kSpans);
  (*sink)->Shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  std::filesystem::remove_all(config.state_dir);
}
BENCHMARK(BM_SinkEndToEnd)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("disk")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace jamjet::otlp

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
