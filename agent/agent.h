// The agent's pipeline: BPF events -> connections -> HTTP exchanges -> LLM spans -> sinks.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/binary_discovery.h"
#include "agent/connection_tracker.h"
#include "agent/genai/id_source.h"
#include "agent/tracer.h"
#include "exporter/otlp/config.h"
#include "exporter/span_sink.h"

namespace jamjet {
namespace otlp {
class OtlpSink;
}

struct AgentOptions {
  std::vector<std::string> outputs;  // "stdout", "file:PATH" or "otlp"; stdout when empty
  otlp::OtlpConfig otlp;             // used when outputs has "otlp"
  std::string ready_file;            // created once probes are attached, when set
  TracerOptions tracer;
  TrackerOptions tracker;
  std::string proc_root = "/proc";
  // Probe libssl.so* in the library directories and executables that carry OpenSSL in the
  // binary directories at start, so processes started later are covered from their first call.
  bool scan_host_directories = true;
  int stats_interval_seconds = 60;
  // Test aid: sleep this long before each ring-buffer poll, to simulate an agent that lags
  // behind the traced processes. 0 in production.
  int consumer_delay_ms = 0;
};

class Agent {
 public:
  static absl::StatusOr<std::unique_ptr<Agent>> Create(AgentOptions options);
  ~Agent();

  // Processes events until `stop` becomes true, then detaches, drains and flushes.
  absl::Status Run(const std::atomic<bool>& stop);

 private:
  explicit Agent(AgentOptions options);
  void HandleRecord(const void* data, size_t size);
  void DispatchRecord(const void* data, size_t size);
  void HandleExchange(genai::Exchange&& exchange);
  // Decodes the captured user-context record into exchange.user, counting unusable records.
  void ResolveUser(genai::Exchange& exchange);
  void AttachAtStart();
  void LogSummary(const char* when);
  // Records the heap in use (malloc's count), sampled once a second and at each summary.
  void SampleHeap();

  AgentOptions options_;
  Resource resource_;
  std::vector<std::unique_ptr<SpanSink>> sinks_;
  otlp::OtlpSink* otlp_sink_ = nullptr;  // owned by sinks_
  std::unique_ptr<SslTracer> tracer_;
  std::unique_ptr<BinaryDiscovery> discovery_;
  std::unique_ptr<ConnectionTracker> tracker_;
  genai::RandomIdSource ids_;

  uint64_t records_ = 0;
  uint64_t bad_records_ = 0;
  uint64_t spans_ = 0;
  uint64_t other_exchanges_ = 0;
  uint64_t busy_ns_ = 0;  // time spent handling ring-buffer records
  uint64_t started_ns_ = 0;
  uint64_t peak_heap_bytes_ = 0;
  std::map<uint32_t, Attributes> process_resources_;  // by pid, read at exec or first span
  std::array<uint64_t, 6> context_status_counts_{};   // by enum jj_context_status
  std::array<uint64_t, user_context::kDecodeStatusCount> record_decode_failures_{};
};

}  // namespace jamjet
