// Reading, acknowledging and syncing of the disk queue; see disk_queue.h.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "exporter/otlp/disk_queue.h"
#include "exporter/otlp/disk_record.h"
#include "spdlog/fmt/fmt.h"

namespace jamjet::otlp {

std::vector<DiskRecord> DiskQueue::Read(size_t max_records, size_t max_bytes) {
  std::lock_guard lock(mutex_);
  std::vector<DiskRecord> out;
  size_t out_bytes = 0;
  while (out.size() < max_records && ReadOne(out, out_bytes, max_bytes)) {
  }
  return out;
}

// Advances the read position by one record or one skipped region. Returns false at the end of
// the queue or when the next record would exceed the byte budget of a non-empty `out`.
bool DiskQueue::ReadOne(std::vector<DiskRecord>& out, size_t& out_bytes, size_t max_bytes) {
  if (read_index_ >= segments_.size()) return false;
  const Segment& segment = segments_[read_index_];
  bool last = read_index_ + 1 == segments_.size();
  if (read_offset_ + kRecordHeaderSize > segment.bytes) {
    if (last) {
      // Everything appended has been read: sequences still missing were lost to damage.
      DropLocked(DropCause::kCorrupt, next_sequence_ - read_sequence_);
      read_sequence_ = next_sequence_;
      return false;
    }
    AdvanceReadSegment();
    return true;
  }
  if (read_fd_ < 0 || read_fd_sequence_ != segment.first_sequence) {
    if (read_fd_ >= 0) close(read_fd_);
    read_fd_ = open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
    read_fd_sequence_ = segment.first_sequence;
    if (read_fd_ < 0) return ResyncInSegment();
  }
  std::string header_bytes = ReadFileRange(read_fd_, read_offset_, kRecordHeaderSize);
  std::optional<RecordHeader> header = DecodeRecordHeader(header_bytes);
  if (!header || read_offset_ + kRecordHeaderSize + header->payload_size > segment.bytes) {
    return ResyncInSegment();
  }
  std::string payload =
      ReadFileRange(read_fd_, read_offset_ + kRecordHeaderSize, header->payload_size);
  if (!RecordChecksumMatches(*header, payload)) return ResyncInSegment();
  if (header->sequence < read_sequence_) {  // acknowledged before a restart
    read_offset_ += kRecordHeaderSize + header->payload_size;
    return true;
  }
  if (out_bytes + payload.size() > max_bytes) return false;
  DropLocked(DropCause::kCorrupt, header->sequence - read_sequence_);
  read_sequence_ = header->sequence + 1;
  read_offset_ += kRecordHeaderSize + header->payload_size;
  if (header->created_unix_s < options_.now_unix_s() - options_.max_age_s) {
    DropLocked(DropCause::kExpired, 1);
    return true;
  }
  out_bytes += payload.size();
  out.push_back({header->sequence, header->created_unix_s, std::move(payload)});
  return true;
}

// Skips damaged bytes: moves to the next valid record of the segment, or past the segment.
// The sequences skipped are counted as corrupt when the next valid record is read.
bool DiskQueue::ResyncInSegment() {
  const Segment& segment = segments_[read_index_];
  std::string data = read_fd_ >= 0 ? ReadFileRange(read_fd_, 0, segment.bytes) : std::string();
  std::optional<size_t> next = FindNextValidRecord(data, read_offset_ + 1);
  if (next) {
    read_offset_ = *next;
    return true;
  }
  read_offset_ = segment.bytes;
  if (read_index_ + 1 == segments_.size()) return true;  // the end-of-queue branch counts it
  AdvanceReadSegment();
  return true;
}

void DiskQueue::AdvanceReadSegment() {
  ++read_index_;
  read_offset_ = 0;
  uint64_t first = segments_[read_index_].first_sequence;
  if (first > read_sequence_) {
    DropLocked(DropCause::kCorrupt, first - read_sequence_);
    read_sequence_ = first;
  }
}

void DiskQueue::Ack(uint64_t next_sequence) {
  std::lock_guard lock(mutex_);
  if (next_sequence <= acked_) return;
  acked_ = next_sequence;
  WriteCursorFile(cursor_fd_, acked_);
  while (segments_.size() > 1 && segments_[1].first_sequence <= acked_) {
    if (read_index_ == 0) AdvanceReadSegment();
    --read_index_;
    unlink(segments_.front().path.c_str());
    total_bytes_ -= segments_.front().bytes;
    segments_.pop_front();
    directory_changed_ = true;
  }
  // Everything was sent: start a new file so that the sent records leave the disk too.
  if (acked_ >= next_sequence_ && segments_.back().bytes > 0 && OpenWriteSegment().ok()) {
    while (segments_.size() > 1) {
      unlink(segments_.front().path.c_str());
      total_bytes_ -= segments_.front().bytes;
      segments_.pop_front();
    }
    read_index_ = 0;
    read_offset_ = 0;
    read_sequence_ = next_sequence_;
  }
}

absl::Status DiskQueue::Sync() {
  int segment_fd;
  bool directory_changed;
  {
    std::lock_guard lock(mutex_);
    // A duplicate stays valid if the segment is rotated and closed during the fsync.
    segment_fd = write_fd_ >= 0 ? dup(write_fd_) : -1;
    directory_changed = directory_changed_;
    directory_changed_ = false;
  }
  absl::Status status = absl::OkStatus();
  if (segment_fd >= 0) {
    if (fdatasync(segment_fd) != 0) status = ErrnoStatus("fsync of the segment in", options_.dir);
    close(segment_fd);
  }
  if (fdatasync(cursor_fd_) != 0) status = ErrnoStatus("fsync of the cursor in", options_.dir);
  if (directory_changed) {
    int dir_fd = open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      if (fsync(dir_fd) != 0) status = ErrnoStatus("fsync of", options_.dir);
      close(dir_fd);
    }
  }
  return status;
}

bool DiskQueue::HasUnread() const {
  std::lock_guard lock(mutex_);
  return read_sequence_ < next_sequence_;
}

uint64_t DiskQueue::unread_records() const {
  std::lock_guard lock(mutex_);
  return next_sequence_ - read_sequence_;
}

uint64_t DiskQueue::pending_records() const {
  std::lock_guard lock(mutex_);
  return next_sequence_ > acked_ ? next_sequence_ - acked_ : 0;
}

uint64_t DiskQueue::bytes() const {
  std::lock_guard lock(mutex_);
  return total_bytes_;
}

}  // namespace jamjet::otlp
