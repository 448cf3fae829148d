// Test driver: feeds spans with unique ids into a real OtlpSink at a given rate and writes each
// id to a file after Export returns. It then drains and shuts the sink down and writes the
// sink's final counters as JSON. With --hold-s it sleeps first, so that a test can kill it.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "exporter/otlp/config.h"
#include "exporter/otlp/otlp_sink.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace {

using jamjet::otlp::OtlpSink;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string config;
  std::string ids_out;
  std::string stats_out;
  std::string run_id = "00000001";  // 8 hex digits: the high half of every span id
  long count = 1000;
  double rate = 0;  // spans per second; 0 means as fast as possible
  int processes = 3;
  double drain_timeout_s = 30;
  double shutdown_s = 10;
  double hold_s = 0;  // sleep after producing, before draining (a test kills the driver then)
};

bool ParseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--config")
      options.config = value;
    else if (flag == "--ids-out")
      options.ids_out = value;
    else if (flag == "--stats-out")
      options.stats_out = value;
    else if (flag == "--run-id")
      options.run_id = value;
    else if (flag == "--count")
      options.count = std::stol(value);
    else if (flag == "--rate")
      options.rate = std::stod(value);
    else if (flag == "--processes")
      options.processes = std::stoi(value);
    else if (flag == "--drain-timeout-s")
      options.drain_timeout_s = std::stod(value);
    else if (flag == "--shutdown-s")
      options.shutdown_s = std::stod(value);
    else if (flag == "--hold-s")
      options.hold_s = std::stod(value);
    else {
      std::fprintf(stderr, "otlp_driver: unknown flag %s\n", flag.c_str());
      return false;
    }
  }
  return !options.config.empty() && options.run_id.size() == 8;
}

jamjet::Span MakeSpan(const Options& options, long index, std::mt19937_64& random) {
  jamjet::Span span;
  span.name = "chat gpt-4o-mini";
  span.trace_id = fmt::format("{:016x}{:016x}", random(), random());
  span.span_id = fmt::format("{}{:08x}", options.run_id, index);
  uint64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  span.start_time_unix_nano = now - 250'000'000;
  span.end_time_unix_nano = now;
  span.status_code = index % 10 == 0 ? jamjet::StatusCode::kError : jamjet::StatusCode::kOk;
  span.attributes = {
      {"gen_ai.system", std::string("openai")},
      {"gen_ai.request.model", std::string("gpt-4o-mini")},
      {"gen_ai.usage.input_tokens", int64_t{1200 + index % 100}},
      {"gen_ai.usage.output_tokens", int64_t{300}},
      {"gen_ai.usage.cost", 0.000425},
      {"gen_ai.request.stream", index % 2 == 0},
      {"gen_ai.response.finish_reasons", std::vector<std::string>{"stop"}},
      {"server.address", std::string("api.openai.com")},
  };
  int process = static_cast<int>(index % options.processes);
  span.resource = {{"process.pid", int64_t{4000 + process}},
                   {"service.name", fmt::format("service-{}", process)},
                   {"process.executable.name", std::string("python3")}};
  return span;
}

long ReadStatusKib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) return std::stol(line.substr(std::strlen(field)));
  }
  return -1;
}

bool Drained(const OtlpSink& sink) {
  auto stats = sink.Stats();
  return stats.depth.memory_spans == 0 && stats.depth.disk_spans == 0 &&
         stats.exported + stats.dropped_total() >= stats.received;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_logger_mt("otlp"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  Options options;
  if (!ParseArgs(argc, argv, options)) {
    std::fprintf(stderr, "usage: otlp_driver --config FILE [--count N] [--rate R] ...\n");
    return 2;
  }
  absl::StatusOr<jamjet::otlp::OtlpConfig> config = jamjet::otlp::LoadConfig(options.config);
  absl::Status env_status = config.ok() ? jamjet::otlp::ApplyEnv(*config) : config.status();
  if (!env_status.ok()) {
    std::fprintf(stderr, "otlp_driver: %s\n", env_status.ToString().c_str());
    return 2;
  }
  auto sink = OtlpSink::Create(*config, jamjet::DetectHostResource());
  if (!sink.ok()) {
    std::fprintf(stderr, "otlp_driver: %s\n", sink.status().ToString().c_str());
    return 2;
  }

  std::atomic<bool> sampling{true};
  std::atomic<uint64_t> max_memory_bytes{0};
  std::thread sampler([&] {
    while (sampling.load()) {
      uint64_t bytes = (*sink)->Stats().depth.memory_bytes;
      if (bytes > max_memory_bytes.load()) max_memory_bytes.store(bytes);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  int ids_fd = -1;
  if (!options.ids_out.empty()) {
    ids_fd = open(options.ids_out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  std::mt19937_64 random(std::random_device{}());
  Clock::time_point start = Clock::now();
  for (long i = 0; i < options.count; ++i) {
    if (options.rate > 0) {
      std::this_thread::sleep_until(
          start + std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / options.rate)));
    }
    jamjet::Span span = MakeSpan(options, i, random);
    (*sink)->Export(span);
    if (ids_fd >= 0) {
      std::string line = span.span_id + "\n";
      (void)!write(ids_fd, line.data(), line.size());
    }
  }
  if (ids_fd >= 0) close(ids_fd);
  long rss_after_produce_kib = ReadStatusKib("VmRSS:");
  if (options.hold_s > 0) {
    std::fprintf(stderr, "otlp_driver: produced %ld spans, holding\n", options.count);
    std::this_thread::sleep_for(std::chrono::duration<double>(options.hold_s));
  }

  (*sink)->Flush();
  Clock::time_point drain_until =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.drain_timeout_s));
  while (!Drained(**sink) && Clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Clock::time_point shutdown_start = Clock::now();
  (*sink)->Shutdown(shutdown_start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(options.shutdown_s)));
  double shutdown_seconds = std::chrono::duration<double>(Clock::now() - shutdown_start).count();
  sampling.store(false);
  sampler.join();

  nlohmann::json stats = nlohmann::json::parse(jamjet::otlp::FormatJson((*sink)->Stats()));
  stats["produced"] = options.count;
  stats["max_memory_queue_bytes"] = max_memory_bytes.load();
  stats["rss_after_produce_kib"] = rss_after_produce_kib;
  stats["peak_rss_kib"] = ReadStatusKib("VmHWM:");
  stats["shutdown_seconds"] = shutdown_seconds;
  stats["metrics_text_bytes"] = (*sink)->MetricsText().size();
  std::string text = stats.dump();
  std::printf("%s\n", text.c_str());
  if (!options.stats_out.empty()) std::ofstream(options.stats_out) << text << "\n";
  return 0;
}
