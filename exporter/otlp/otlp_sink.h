// A span sink that exports spans to an OTLP/HTTP endpoint (protobuf, gzip) with retries, an
// in-memory queue, an optional disk queue and Prometheus metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "exporter/otlp/batch_exporter.h"
#include "exporter/otlp/config.h"
#include "exporter/otlp/export_stats.h"
#include "exporter/otlp/metrics_server.h"
#include "exporter/otlp/span_queue.h"
#include "exporter/span_sink.h"

namespace jamjet::otlp {

class OtlpSink : public SpanSink {
 public:
  using Clock = std::chrono::steady_clock;

  // Validates `config` and reads the API key file when JAMJET_API_KEY did not set a key. Then
  // opens the disk queue, which falls back to memory only with an error log when it cannot be
  // opened. Starts the metrics endpoint (a failure is logged, not returned) and the threads.
  // `host_resource` is completed with host.id, host.name, os.type and telemetry.distro.*.
  static absl::StatusOr<std::unique_ptr<OtlpSink>> Create(const OtlpConfig& config,
                                                          Resource host_resource);
  // Calls Shutdown with a 10 s deadline unless it already ran.
  ~OtlpSink() override;

  // Encodes the span and queues it. Thread-safe. It does not wait for the network, but with the
  // disk queue on it writes the span to the queue file before it returns.
  void Export(const Span& span) override;
  // Makes every queued span due for sending now; does not wait.
  void Flush() override;
  uint64_t exported() const override { return stats_.exported(); }
  uint64_t dropped() const override { return stats_.dropped(); }
  std::string description() const override;

  // Sends what it can until `deadline`, then cuts off the running request, syncs the disk queue
  // (unsent spans stay there for the next start) and stops all threads. Returns within about
  // 1 s after `deadline` even when the endpoint hangs. Later calls do nothing.
  void Shutdown(Clock::time_point deadline);

  StatsSnapshot Stats() const;
  std::string MetricsText() const { return FormatPrometheus(Stats()); }

 private:
  OtlpSink(const OtlpConfig& config, Resource host_resource);
  void SenderLoop();
  void HousekeepingLoop();

  OtlpConfig config_;
  Resource host_resource_;
  ExportStats stats_;
  std::unique_ptr<SpanQueue> queue_;
  std::unique_ptr<BatchExporter> exporter_;
  std::unique_ptr<MetricsServer> metrics_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> sender_done_{false};
  std::mutex shutdown_mutex_;
  std::condition_variable shutdown_changed_;
  bool shut_down_ = false;
  std::thread sender_;
  std::thread housekeeping_;
};

}  // namespace jamjet::otlp
