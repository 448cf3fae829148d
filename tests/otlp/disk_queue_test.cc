#include "exporter/otlp/disk_queue.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "exporter/otlp/disk_record.h"

namespace jamjet::otlp {
namespace {

class DiskQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("disk_queue_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<DiskQueue> Open(int64_t max_bytes = 1 << 20, int64_t segment_bytes = 0) {
    DiskQueueOptions options;
    options.dir = dir_.string();
    options.max_bytes = max_bytes;
    options.segment_bytes = segment_bytes;
    options.max_age_s = 3600;
    options.now_unix_s = [this] { return now_; };
    options.on_drop = [this](DropCause cause, uint64_t n) { drops_[cause] += n; };
    auto queue = DiskQueue::Open(options);
    EXPECT_TRUE(queue.ok()) << queue.status();
    return queue.ok() ? std::move(*queue) : nullptr;
  }

  std::filesystem::path dir_;
  int64_t now_ = 1'700'000'000;
  std::map<DropCause, uint64_t> drops_;
};

TEST_F(DiskQueueTest, AppendReadAck) {
  auto queue = Open();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(queue->Append("span-" + std::to_string(i), now_).ok());
  EXPECT_EQ(queue->unread_records(), 10u);
  std::vector<DiskRecord> records = queue->Read(4, 1 << 20);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].payload, "span-0");
  EXPECT_EQ(records[3].payload, "span-3");
  queue->Ack(records.back().sequence + 1);
  EXPECT_EQ(queue->pending_records(), 6u);
  records = queue->Read(100, 1 << 20);
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].payload, "span-4");
  EXPECT_FALSE(queue->HasUnread());
  EXPECT_TRUE(drops_.empty());
}

TEST_F(DiskQueueTest, RestartResendsOnlyUnacknowledged) {
  {
    auto queue = Open();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(queue->Append("r" + std::to_string(i), now_).ok());
    std::vector<DiskRecord> records = queue->Read(5, 1 << 20);
    queue->Ack(records.back().sequence + 1);
    ASSERT_TRUE(queue->Sync().ok());
  }
  auto queue = Open();
  std::vector<DiskRecord> records = queue->Read(100, 1 << 20);
  ASSERT_EQ(records.size(), 15u);
  EXPECT_EQ(records.front().payload, "r5");
  EXPECT_EQ(records.back().payload, "r19");
  auto next = queue->Append("after-restart", now_);
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, records.back().sequence);
}

TEST_F(DiskQueueTest, CorruptRecordIsSkippedAndCounted) {
  {
    auto queue = Open();
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(queue->Append("payload-" + std::to_string(i), now_).ok());
  }
  // Flip one payload byte of the second record.
  std::filesystem::path segment;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().filename().string().starts_with("seg-") && entry.file_size() > 0) {
      segment = entry.path();
    }
  }
  ASSERT_FALSE(segment.empty());
  int fd = open(segment.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  size_t record_size = kRecordHeaderSize + std::string("payload-0").size();
  char byte = 'X';
  ASSERT_EQ(pwrite(fd, &byte, 1, record_size + kRecordHeaderSize + 2), 1);
  close(fd);

  auto queue = Open();
  std::vector<DiskRecord> records = queue->Read(100, 1 << 20);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].payload, "payload-0");
  EXPECT_EQ(records[1].payload, "payload-2");
  EXPECT_EQ(drops_[DropCause::kCorrupt], 1u);
}

TEST_F(DiskQueueTest, DamagedHeaderResynchronizes) {
  {
    auto queue = Open();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(queue->Append("abcdefgh", now_).ok());
  }
  std::filesystem::path segment;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().filename().string().starts_with("seg-") && entry.file_size() > 0) {
      segment = entry.path();
    }
  }
  int fd = open(segment.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const char garbage[4] = {0, 0, 0, 0};  // destroys the magic of the first record
  ASSERT_EQ(pwrite(fd, garbage, 4, 0), 4);
  close(fd);
  auto queue = Open();
  std::vector<DiskRecord> records = queue->Read(100, 1 << 20);
  EXPECT_EQ(records.size(), 3u);
  EXPECT_EQ(drops_[DropCause::kCorrupt], 1u);
}

TEST_F(DiskQueueTest, OldRecordsExpire) {
  auto queue = Open();
  ASSERT_TRUE(queue->Append("old", now_ - 7200).ok());
  ASSERT_TRUE(queue->Append("fresh", now_ - 10).ok());
  std::vector<DiskRecord> records = queue->Read(100, 1 << 20);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload, "fresh");
  EXPECT_EQ(drops_[DropCause::kExpired], 1u);
}

TEST_F(DiskQueueTest, SizeCapDropsOldest) {
  auto queue = Open(/*max_bytes=*/64 * 1024, /*segment_bytes=*/8 * 1024);
  std::string payload(1000, 'p');
  constexpr int kRecords = 200;  // about 200 KiB, three times the cap
  for (int i = 0; i < kRecords; ++i) {
    payload.replace(0, 8, std::to_string(10'000'000 + i));
    ASSERT_TRUE(queue->Append(payload, now_).ok());
  }
  EXPECT_LE(queue->bytes(), 64u * 1024);
  std::vector<DiskRecord> records = queue->Read(1000, 1 << 30);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().payload.substr(0, 8), std::to_string(10'000'000 + kRecords - 1));
  EXPECT_EQ(drops_[DropCause::kDiskFull] + records.size(), static_cast<uint64_t>(kRecords));
  EXPECT_GT(drops_[DropCause::kDiskFull], 100u);
}

TEST_F(DiskQueueTest, AckRemovesSentSegments) {
  auto queue = Open(1 << 20, 4 * 1024);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(queue->Append(std::string(500, 'a'), now_).ok());
  uint64_t before = queue->bytes();
  std::vector<DiskRecord> records = queue->Read(1000, 1 << 30);
  queue->Ack(records.back().sequence + 1);
  EXPECT_LT(queue->bytes(), before / 4);
  EXPECT_EQ(queue->pending_records(), 0u);
}

TEST_F(DiskQueueTest, MarkAllReadSkipsHeldRecords) {
  auto queue = Open();
  ASSERT_TRUE(queue->Append("held", now_).ok());
  queue->MarkAllRead();
  EXPECT_FALSE(queue->HasUnread());
  ASSERT_TRUE(queue->Append("spilled", now_).ok());
  std::vector<DiskRecord> records = queue->Read(10, 1 << 20);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload, "spilled");
  EXPECT_TRUE(drops_.empty());
}

TEST(DiskQueueOpenTest, UnwritableDirectoryFails) {
  DiskQueueOptions options;
  options.dir = "/dev/null/otlp-queue";
  EXPECT_FALSE(DiskQueue::Open(options).ok());
}

}  // namespace
}  // namespace jamjet::otlp
