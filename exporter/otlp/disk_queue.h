// A durable FIFO of span records under a state directory.
//
// Why segment files with zlib CRC-32 records and not SQLite: spans leave the queue in the order
// they entered it, so an acknowledgement is one cursor (the next unsent sequence number) and a
// fully sent segment is removed with one unlink. Each span costs one append write(2) and no
// index or B-tree update, the fsync cadence is ours, and a write that fails on a full disk is
// cut back with ftruncate, leaving the files valid. A checksum per record finds torn or damaged
// records, and the reader resynchronizes on the next valid record.
//
// Files: seg-<first sequence, 20 digits>.log (records, see disk_record.h) and `cursor` (the
// acknowledged sequence and its CRC-32). Records below the cursor are skipped after a restart.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporter/otlp/export_stats.h"

namespace jamjet::otlp {

struct DiskQueueOptions {
  std::string dir;
  int64_t max_bytes = 512LL * 1024 * 1024;  // total size of the segment files
  int64_t max_age_s = 24 * 3600;
  // Segment file size; 0 picks max_bytes / 16 within [64 KiB, 8 MiB]. The size cap is kept
  // by removing whole segments, so it is exceeded by at most one record.
  int64_t segment_bytes = 0;
  std::function<int64_t()> now_unix_s;  // defaults to the system clock
  // Called, with the mutex held, for records lost to kDiskFull, kCorrupt or kExpired.
  std::function<void(DropCause, uint64_t)> on_drop;
};

struct DiskRecord {
  uint64_t sequence = 0;
  int64_t created_unix_s = 0;
  std::string payload;
};

// Thread-safe.
class DiskQueue {
 public:
  // Creates the directory when missing and recovers the records of an earlier run.
  static absl::StatusOr<std::unique_ptr<DiskQueue>> Open(DiskQueueOptions options);
  ~DiskQueue();

  // Writes one record (write-ahead: it is in the file when this returns, and durable after the
  // next Sync). Returns its sequence number. On failure nothing is left of the record.
  absl::StatusOr<uint64_t> Append(std::string_view payload, int64_t created_unix_s);
  // Moves the read position to the end: the caller keeps every appended record in memory.
  // Only valid while HasUnread() was false before the last Append.
  void MarkAllRead();
  // Returns up to `max_records` unread records of at most `max_bytes` payload in total,
  // skipping corrupt and expired ones.
  std::vector<DiskRecord> Read(size_t max_records, size_t max_bytes);
  // Records below `next_sequence` were sent or dropped: segments holding only such records are
  // removed and the cursor file is updated (without fsync; Sync does that).
  void Ack(uint64_t next_sequence);
  // Flushes the open segment, the cursor and the directory entries to the device.
  absl::Status Sync();

  bool HasUnread() const;
  uint64_t unread_records() const;   // an estimate: corrupt records are counted until read
  uint64_t pending_records() const;  // appended and not acknowledged
  uint64_t bytes() const;

 private:
  struct Segment {
    uint64_t first_sequence;
    std::string path;
    uint64_t bytes;
  };

  explicit DiskQueue(DiskQueueOptions options);
  absl::Status Recover();
  absl::Status OpenWriteSegment();
  void ScanLastSequence();
  void EvictOldest();
  void AdvanceReadSegment();
  void DropLocked(DropCause cause, uint64_t count);
  bool ReadOne(std::vector<DiskRecord>& out, size_t& out_bytes, size_t max_bytes);
  bool ResyncInSegment();
  std::string SegmentPath(uint64_t first_sequence) const;

  DiskQueueOptions options_;
  mutable std::mutex mutex_;
  std::deque<Segment> segments_;  // oldest first; the last one is being written
  int write_fd_ = -1;
  int cursor_fd_ = -1;
  int read_fd_ = -1;
  uint64_t read_fd_sequence_ = 0;  // first sequence of the segment read_fd_ refers to
  size_t read_index_ = 0;          // index in segments_ of the read position
  uint64_t read_offset_ = 0;
  uint64_t read_sequence_ = 0;  // next sequence the reader returns
  uint64_t next_sequence_ = 1;  // sequence of the next Append
  uint64_t acked_ = 1;          // first sequence not yet acknowledged
  uint64_t total_bytes_ = 0;
  bool directory_changed_ = false;
};

}  // namespace jamjet::otlp
