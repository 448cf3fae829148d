// The exporter's queue: a bounded in-memory FIFO in front of an optional disk queue, cut into
// batches for the sender.
//
// With the disk queue, every span is appended to disk before Push returns. It is also kept in
// memory while memory has room and nothing older waits on disk. Otherwise it stays on disk only
// and is read back when memory drains. So memory stays within its limits during an outage while
// the disk queue absorbs the backlog. Batches leave in sequence order, so acknowledging a batch
// acknowledges every disk record before its last one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "exporter/otlp/disk_queue.h"
#include "exporter/otlp/export_stats.h"
#include "exporter/otlp/otlp_encoder.h"

namespace jamjet::otlp {

struct QueueOptions {
  size_t max_spans = 65'536;
  size_t max_bytes = 64 * 1024 * 1024;
  size_t max_batch_spans = 512;
  size_t max_batch_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds flush_interval{5'000};
  int64_t max_age_s = 24 * 3600;
  // After a failed disk write the queue keeps spans in memory only for this long, then tries
  // the disk again.
  std::chrono::milliseconds disk_retry_interval{30'000};
};

// Thread-safe.
class SpanQueue {
 public:
  using Clock = std::chrono::steady_clock;

  // `disk` may be null (memory only).
  SpanQueue(QueueOptions options, ExportStats& stats, std::unique_ptr<DiskQueue> disk);

  // Takes one span, or counts it as dropped (queue_full) when neither memory nor disk has room.
  void Push(EncodedSpan span);

  // Waits until a batch is due or `wait_until` passes. A batch is due when it is full, when its
  // oldest span waited flush_interval or after RequestFlush. Returns an empty batch on timeout.
  std::vector<EncodedSpan> NextBatch(Clock::time_point wait_until);

  // Makes everything queued due now. With `drain`, stays so until the queue is destroyed.
  void RequestFlush(bool drain = false);

  // Marks a batch as finished (sent or dropped) so that its disk records are released.
  void Acknowledge(const std::vector<EncodedSpan>& batch);

  // Counts the spans of an unfinished batch and of the memory queue that exist nowhere else
  // as dropped (shutdown). Spans also on disk stay there for the next start.
  void DropUnpersisted(const std::vector<EncodedSpan>& unfinished);

  // Flushes the disk queue to the device; logs a failure.
  void SyncDisk();

  bool Empty() const;
  QueueDepth Depth() const;

 private:
  bool MemoryHasRoom(size_t span_bytes) const;
  bool AppendToDisk(EncodedSpan& span, bool& spilled);
  bool BatchDue(Clock::time_point now) const;
  void RefillFromDisk();
  std::vector<EncodedSpan> PopBatch();

  QueueOptions options_;
  ExportStats& stats_;
  std::unique_ptr<DiskQueue> disk_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<EncodedSpan> memory_;
  size_t memory_bytes_ = 0;
  bool flush_requested_ = false;
  bool draining_ = false;
  bool disk_failing_ = false;
  Clock::time_point disk_retry_at_{};
  uint64_t disk_failures_ = 0;
  bool sync_failing_ = false;  // used by the syncing thread only
};

}  // namespace jamjet::otlp
