#include "exporter/otlp/disk_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "exporter/otlp/disk_record.h"
#include "spdlog/fmt/fmt.h"

namespace jamjet::otlp {
namespace {

constexpr int64_t kMinSegmentBytes = 64 * 1024;
constexpr int64_t kMaxSegmentBytes = 8 * 1024 * 1024;

}  // namespace

DiskQueue::DiskQueue(DiskQueueOptions options) : options_(std::move(options)) {
  if (!options_.now_unix_s) {
    options_.now_unix_s = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  if (options_.segment_bytes <= 0) {
    options_.segment_bytes =
        std::clamp(options_.max_bytes / 16, kMinSegmentBytes, kMaxSegmentBytes);
  }
}

DiskQueue::~DiskQueue() {
  for (int fd : {write_fd_, cursor_fd_, read_fd_}) {
    if (fd >= 0) close(fd);
  }
}

absl::StatusOr<std::unique_ptr<DiskQueue>> DiskQueue::Open(DiskQueueOptions options) {
  std::unique_ptr<DiskQueue> queue(new DiskQueue(std::move(options)));
  absl::Status status = queue->Recover();
  if (!status.ok()) return status;
  return queue;
}

std::string DiskQueue::SegmentPath(uint64_t first_sequence) const {
  return fmt::format("{}/seg-{:020}.log", options_.dir, first_sequence);
}

absl::Status DiskQueue::Recover() {
  std::error_code error;
  std::filesystem::create_directories(options_.dir, error);
  if (error) {
    return absl::InternalError(
        fmt::format("creating state directory {} failed: {}", options_.dir, error.message()));
  }
  std::string cursor_path = options_.dir + "/cursor";
  cursor_fd_ = open(cursor_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (cursor_fd_ < 0) return ErrnoStatus("opening", cursor_path);
  // The cursor file contains the first unacknowledged sequence; sequences start at 1.
  acked_ = std::max<uint64_t>(ReadCursorFile(cursor_fd_), 1);

  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, error)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("seg-") || !name.ends_with(".log") || name.size() != 28) continue;
    uint64_t first = std::strtoull(name.c_str() + 4, nullptr, 10);
    segments_.push_back({first, entry.path().string(), entry.file_size(error)});
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.first_sequence < b.first_sequence; });
  while (segments_.size() > 1 && segments_[1].first_sequence <= acked_) {
    unlink(segments_.front().path.c_str());
    segments_.pop_front();
  }
  for (const Segment& segment : segments_) total_bytes_ += segment.bytes;
  ScanLastSequence();
  next_sequence_ = std::max(next_sequence_, acked_);
  read_sequence_ =
      segments_.empty() ? next_sequence_ : std::max(acked_, segments_.front().first_sequence);
  return OpenWriteSegment();
}

// Sets next_sequence_ past the last valid record of the newest segment that has one.
void DiskQueue::ScanLastSequence() {
  for (auto segment = segments_.rbegin(); segment != segments_.rend(); ++segment) {
    next_sequence_ = std::max(next_sequence_, segment->first_sequence);
    int fd = open(segment->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string data = ReadFileRange(fd, 0, segment->bytes);
    close(fd);
    bool found = false;
    for (std::optional<size_t> offset = FindNextValidRecord(data, 0); offset;
         offset = FindNextValidRecord(data, *offset + kRecordHeaderSize)) {
      std::optional<RecordHeader> header =
          DecodeRecordHeader(std::string_view(data).substr(*offset));
      next_sequence_ = std::max(next_sequence_, header->sequence + 1);
      found = true;
    }
    if (found) return;
  }
}

absl::Status DiskQueue::OpenWriteSegment() {
  if (write_fd_ >= 0) close(write_fd_);
  write_fd_ = -1;
  // A new run or a rotation starts a new file, so no record is appended after a torn one.
  if (segments_.empty() || segments_.back().bytes > 0 ||
      segments_.back().first_sequence != next_sequence_) {
    if (!segments_.empty() && segments_.back().bytes == 0) {
      unlink(segments_.back().path.c_str());
      segments_.pop_back();
    }
    segments_.push_back({next_sequence_, SegmentPath(next_sequence_), 0});
    directory_changed_ = true;
  }
  const std::string& path = segments_.back().path;
  write_fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (write_fd_ < 0) return ErrnoStatus("opening", path);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> DiskQueue::Append(std::string_view payload, int64_t created_unix_s) {
  std::lock_guard lock(mutex_);
  if (write_fd_ < 0) {
    absl::Status status = OpenWriteSegment();
    if (!status.ok()) return status;
  }
  std::string record = EncodeRecord(next_sequence_, created_unix_s, payload);
  if (segments_.back().bytes > 0 &&
      segments_.back().bytes + record.size() > static_cast<uint64_t>(options_.segment_bytes)) {
    absl::Status status = OpenWriteSegment();
    if (!status.ok()) return status;
  }
  while (total_bytes_ + record.size() > static_cast<uint64_t>(options_.max_bytes) &&
         segments_.size() > 1) {
    EvictOldest();
  }
  Segment& segment = segments_.back();
  ssize_t written = write(write_fd_, record.data(), record.size());
  if (written != static_cast<ssize_t>(record.size())) {
    int error = written < 0 ? errno : ENOSPC;
    // Cut off a partial record so that the file stays a sequence of whole records.
    if (written > 0) (void)!ftruncate(write_fd_, static_cast<off_t>(segment.bytes));
    errno = error;
    return ErrnoStatus("writing to", segment.path);
  }
  segment.bytes += record.size();
  total_bytes_ += record.size();
  return next_sequence_++;
}

void DiskQueue::EvictOldest() {
  Segment& oldest = segments_.front();
  uint64_t next_first = segments_[1].first_sequence;
  if (read_index_ == 0) {
    // Records before read_sequence_ are held in memory and still get sent; the rest are lost.
    if (next_first > read_sequence_) DropLocked(DropCause::kDiskFull, next_first - read_sequence_);
    read_offset_ = 0;
    read_sequence_ = std::max(read_sequence_, next_first);
  } else {
    --read_index_;
  }
  unlink(oldest.path.c_str());
  total_bytes_ -= oldest.bytes;
  segments_.pop_front();
  directory_changed_ = true;
}

void DiskQueue::MarkAllRead() {
  std::lock_guard lock(mutex_);
  read_index_ = segments_.size() - 1;
  read_offset_ = segments_.back().bytes;
  read_sequence_ = next_sequence_;
}

void DiskQueue::DropLocked(DropCause cause, uint64_t count) {
  if (count > 0 && options_.on_drop) options_.on_drop(cause, count);
}

}  // namespace jamjet::otlp
