#include "exporter/otlp/span_queue.h"

#include <algorithm>

#include "spdlog/spdlog.h"

namespace jamjet::otlp {
namespace {

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SpanQueue::SpanQueue(QueueOptions options, ExportStats& stats, std::unique_ptr<DiskQueue> disk)
    : options_(options), stats_(stats), disk_(std::move(disk)) {}

bool SpanQueue::MemoryHasRoom(size_t span_bytes) const {
  return memory_.size() < options_.max_spans && memory_bytes_ + span_bytes <= options_.max_bytes;
}

// Appends `span` to the disk queue when it is usable. Sets `spilled` when the span stays on
// disk only. Returns false when the span was not written.
bool SpanQueue::AppendToDisk(EncodedSpan& span, bool& spilled) {
  if (disk_ == nullptr) return false;
  if (disk_failing_ && Clock::now() < disk_retry_at_) return false;
  spilled = disk_->HasUnread() || !MemoryHasRoom(span.size());
  absl::StatusOr<uint64_t> sequence = disk_->Append(PackRecord(span), span.created_unix_s);
  if (!sequence.ok()) {
    ++disk_failures_;
    if (!disk_failing_) {
      spdlog::error("otlp: {}; keeping spans in memory only, retrying the disk queue in {} s",
                    sequence.status().ToString(), options_.disk_retry_interval.count() / 1000);
    }
    disk_failing_ = true;
    disk_retry_at_ = Clock::now() + options_.disk_retry_interval;
    return false;
  }
  if (disk_failing_) {
    spdlog::info("otlp: the disk queue is writable again after {} failed writes", disk_failures_);
    disk_failing_ = false;
    disk_failures_ = 0;
  }
  span.disk_sequence = *sequence;
  if (!spilled) disk_->MarkAllRead();
  return true;
}

void SpanQueue::Push(EncodedSpan span) {
  if (span.created_unix_s == 0) span.created_unix_s = NowUnixSeconds();
  span.queued_at = Clock::now();
  std::lock_guard lock(mutex_);
  bool spilled = false;
  bool on_disk = AppendToDisk(span, spilled);
  if (on_disk && spilled) {
    changed_.notify_one();
    return;
  }
  if (!on_disk && !MemoryHasRoom(span.size())) {
    stats_.AddDropped(DropCause::kQueueFull, 1);
    return;
  }
  memory_bytes_ += span.size();
  memory_.push_back(std::move(span));
  // Wake the sender when it must start its flush timer or when a batch just filled up.
  if (memory_.size() == 1 || memory_.size() == options_.max_batch_spans ||
      memory_bytes_ >= options_.max_batch_bytes) {
    changed_.notify_one();
  }
}

bool SpanQueue::BatchDue(Clock::time_point now) const {
  if (memory_.empty()) return disk_ != nullptr && disk_->HasUnread();
  if (flush_requested_ || draining_) return true;
  if (memory_.size() >= options_.max_batch_spans) return true;
  if (memory_bytes_ >= options_.max_batch_bytes) return true;
  return now - memory_.front().queued_at >= options_.flush_interval;
}

void SpanQueue::RefillFromDisk() {
  if (disk_ == nullptr || memory_.size() >= options_.max_batch_spans) return;
  if (memory_.size() >= options_.max_spans || memory_bytes_ >= options_.max_bytes) return;
  size_t max_records = std::min(options_.max_batch_spans, options_.max_spans - memory_.size());
  size_t max_bytes = std::min(options_.max_batch_bytes, options_.max_bytes - memory_bytes_);
  // An empty memory queue takes any record, even one larger than max_bytes (at most
  // max_batch_bytes and the record header), so that such a record cannot block the queue.
  if (memory_.empty()) max_bytes = std::max(max_bytes, options_.max_batch_bytes + 64);
  for (DiskRecord& record : disk_->Read(max_records, max_bytes)) {
    EncodedSpan span;
    if (!UnpackRecord(record.payload, span)) {
      stats_.AddDropped(DropCause::kCorrupt, 1);
      continue;
    }
    span.created_unix_s = record.created_unix_s;
    span.disk_sequence = record.sequence;
    memory_bytes_ += span.size();
    memory_.push_back(std::move(span));  // queued_at stays at the epoch: due at once
  }
}

std::vector<EncodedSpan> SpanQueue::PopBatch() {
  std::vector<EncodedSpan> batch;
  size_t batch_bytes = 0;
  int64_t oldest_allowed = NowUnixSeconds() - options_.max_age_s;
  while (!memory_.empty() && batch.size() < options_.max_batch_spans) {
    EncodedSpan& span = memory_.front();
    if (!batch.empty() && batch_bytes + span.size() > options_.max_batch_bytes) break;
    memory_bytes_ -= span.size();
    if (span.created_unix_s < oldest_allowed) {
      stats_.AddDropped(DropCause::kExpired, 1);
    } else {
      batch_bytes += span.size();
      batch.push_back(std::move(span));
    }
    memory_.pop_front();
  }
  if (memory_.empty()) flush_requested_ = false;
  return batch;
}

std::vector<EncodedSpan> SpanQueue::NextBatch(Clock::time_point wait_until) {
  std::unique_lock lock(mutex_);
  while (true) {
    Clock::time_point now = Clock::now();
    RefillFromDisk();
    if (BatchDue(now)) return PopBatch();
    if (now >= wait_until) return {};
    Clock::time_point wake = wait_until;
    if (!memory_.empty())
      wake = std::min(wake, memory_.front().queued_at + options_.flush_interval);
    changed_.wait_until(lock, wake);
  }
}

void SpanQueue::RequestFlush(bool drain) {
  std::lock_guard lock(mutex_);
  flush_requested_ = true;
  if (drain) draining_ = true;
  changed_.notify_all();
}

void SpanQueue::Acknowledge(const std::vector<EncodedSpan>& batch) {
  uint64_t last = 0;
  for (const EncodedSpan& span : batch) last = std::max(last, span.disk_sequence);
  if (disk_ != nullptr && last != 0) disk_->Ack(last + 1);
}

void SpanQueue::DropUnpersisted(const std::vector<EncodedSpan>& unfinished) {
  std::lock_guard lock(mutex_);
  uint64_t lost = 0;
  for (const EncodedSpan& span : unfinished) lost += span.disk_sequence == 0 ? 1 : 0;
  for (const EncodedSpan& span : memory_) lost += span.disk_sequence == 0 ? 1 : 0;
  stats_.AddDropped(DropCause::kShutdown, lost);
  memory_.clear();
  memory_bytes_ = 0;
}

void SpanQueue::SyncDisk() {
  if (disk_ == nullptr) return;
  absl::Status status = disk_->Sync();
  // Log when syncing starts or stops failing, not on every period.
  if (!status.ok() && !sync_failing_) {
    spdlog::error("otlp: syncing the disk queue failed: {}", status.ToString());
  } else if (status.ok() && sync_failing_) {
    spdlog::info("otlp: syncing the disk queue works again");
  }
  sync_failing_ = !status.ok();
}

bool SpanQueue::Empty() const {
  std::lock_guard lock(mutex_);
  return memory_.empty() && (disk_ == nullptr || !disk_->HasUnread());
}

QueueDepth SpanQueue::Depth() const {
  std::lock_guard lock(mutex_);
  QueueDepth depth;
  depth.memory_spans = memory_.size();
  depth.memory_bytes = memory_bytes_;
  depth.disk_enabled = disk_ != nullptr;
  if (disk_ != nullptr) {
    depth.disk_spans = disk_->pending_records();
    depth.disk_bytes = disk_->bytes();
  }
  return depth;
}

}  // namespace jamjet::otlp
