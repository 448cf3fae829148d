// Counters of the OTLP exporter, as Prometheus text and as a one-line log summary.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace jamjet::otlp {

// Cause of a span drop. The label values are the names returned by DropCauseName.
enum class DropCause {
  kQueueFull,         // the in-memory queue was full and no disk queue could take the span
  kDiskFull,          // the disk queue reached its size cap and dropped its oldest spans
  kRetryExhausted,    // retryable failures lasted longer than retry_max_elapsed_s
  kPermanentError,    // a status that is not retried (400, 401, 500, ...)
  kPartialRejection,  // the server accepted the request but rejected some spans
  kTooLarge,          // 413 after one split, or one span larger than max_batch_bytes
  kExpired,           // queued longer than disk_max_age_s
  kCorrupt,           // a disk record failed its checksum
  kShutdown,          // still queued at shutdown with no disk queue to keep it
  kCount,
};

const char* DropCauseName(DropCause cause);

// Queue depth at one moment, for gauges.
struct QueueDepth {
  uint64_t memory_spans = 0;
  uint64_t memory_bytes = 0;
  uint64_t disk_spans = 0;  // on disk and not yet acknowledged by the endpoint
  uint64_t disk_bytes = 0;
  bool disk_enabled = false;
};

struct StatsSnapshot {
  uint64_t received = 0;
  uint64_t exported = 0;
  uint64_t requests = 0;
  uint64_t retries = 0;
  std::array<uint64_t, static_cast<size_t>(DropCause::kCount)> dropped{};
  std::map<long, uint64_t> responses;  // HTTP status (0: no response) to count
  QueueDepth depth;

  uint64_t dropped_total() const;
};

// Thread-safe counters.
class ExportStats {
 public:
  void AddReceived(uint64_t n) { received_ += n; }
  void AddExported(uint64_t n) { exported_ += n; }
  void AddRetry() { ++retries_; }
  void AddDropped(DropCause cause, uint64_t n) { dropped_[static_cast<size_t>(cause)] += n; }
  void AddResponse(long status);

  uint64_t exported() const { return exported_.load(); }
  uint64_t dropped() const;
  StatsSnapshot Snapshot(const QueueDepth& depth) const;

 private:
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> retries_{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DropCause::kCount)> dropped_{};
  mutable std::mutex responses_mutex_;
  std::map<long, uint64_t> responses_;
};

// Returns the snapshot in the Prometheus text exposition format (version 0.0.4).
std::string FormatPrometheus(const StatsSnapshot& stats);

// Returns "received=... exported=... dropped=... (queue_full=...) queue=... disk=..." for the log.
std::string FormatSummary(const StatsSnapshot& stats);

// Returns the snapshot as one JSON object, for tests and tools.
std::string FormatJson(const StatsSnapshot& stats);

}  // namespace jamjet::otlp
