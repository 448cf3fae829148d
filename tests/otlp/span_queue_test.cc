#include "exporter/otlp/span_queue.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace jamjet::otlp {
namespace {

using std::chrono::milliseconds;

EncodedSpan MakeSpan(size_t bytes, int id) {
  EncodedSpan span;
  span.resource = "resource";
  span.span = std::to_string(id);
  span.span.resize(bytes, 's');
  return span;
}

int IdOf(const EncodedSpan& span) { return std::stoi(span.span); }

SpanQueue::Clock::time_point Soon() { return SpanQueue::Clock::now() + milliseconds(100); }

TEST(SpanQueueTest, BatchesHaveAtMost512Spans) {
  ExportStats stats;
  SpanQueue queue(QueueOptions{}, stats, nullptr);
  for (int i = 0; i < 1200; ++i) queue.Push(MakeSpan(100, i));
  std::vector<size_t> sizes;
  for (auto batch = queue.NextBatch(Soon()); !batch.empty(); batch = queue.NextBatch(Soon())) {
    sizes.push_back(batch.size());
    if (sizes.size() == 2) queue.RequestFlush();  // the last 176 spans would wait 5 s
  }
  ASSERT_EQ(sizes.size(), 3u);
  EXPECT_EQ(sizes[0], 512u);
  EXPECT_EQ(sizes[1], 512u);
  EXPECT_EQ(sizes[2], 176u);
}

TEST(SpanQueueTest, BatchesStayWithinByteLimit) {
  ExportStats stats;
  QueueOptions options;
  options.max_batch_bytes = 1024 * 1024;
  SpanQueue queue(options, stats, nullptr);
  for (int i = 0; i < 30; ++i) queue.Push(MakeSpan(100 * 1024, i));
  size_t total = 0;
  for (auto batch = queue.NextBatch(Soon()); !batch.empty(); batch = queue.NextBatch(Soon())) {
    size_t bytes = 0;
    for (const auto& span : batch) bytes += span.size();
    EXPECT_LE(bytes, options.max_batch_bytes);
    EXPECT_GE(batch.size(), 1u);
    total += batch.size();
    queue.RequestFlush();
  }
  EXPECT_EQ(total, 30u);
}

TEST(SpanQueueTest, PartialBatchWaitsForFlushInterval) {
  ExportStats stats;
  QueueOptions options;
  options.flush_interval = milliseconds(300);
  SpanQueue queue(options, stats, nullptr);
  queue.Push(MakeSpan(10, 1));
  auto start = SpanQueue::Clock::now();
  EXPECT_TRUE(queue.NextBatch(start + milliseconds(100)).empty());
  auto batch = queue.NextBatch(start + milliseconds(2'000));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_GE(SpanQueue::Clock::now() - start, milliseconds(280));
}

TEST(SpanQueueTest, FullMemoryQueueDropsWithCount) {
  ExportStats stats;
  QueueOptions options;
  options.max_spans = 10;
  SpanQueue queue(options, stats, nullptr);
  for (int i = 0; i < 15; ++i) queue.Push(MakeSpan(10, i));
  StatsSnapshot snapshot = stats.Snapshot(queue.Depth());
  EXPECT_EQ(snapshot.dropped[static_cast<size_t>(DropCause::kQueueFull)], 5u);
  EXPECT_EQ(snapshot.depth.memory_spans, 10u);
}

TEST(SpanQueueTest, SpillsToDiskInOrder) {
  std::string dir = ::testing::TempDir() + "/span_queue_spill_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  DiskQueueOptions disk_options;
  disk_options.dir = dir;
  auto disk = DiskQueue::Open(disk_options);
  ASSERT_TRUE(disk.ok());
  ExportStats stats;
  QueueOptions options;
  options.max_spans = 20;
  options.max_batch_spans = 8;
  SpanQueue queue(options, stats, std::move(*disk));
  for (int i = 0; i < 100; ++i) queue.Push(MakeSpan(50, i));
  EXPECT_LE(queue.Depth().memory_spans, 20u);
  EXPECT_EQ(queue.Depth().disk_spans, 100u);
  int expected = 0;
  for (auto batch = queue.NextBatch(Soon()); !batch.empty(); batch = queue.NextBatch(Soon())) {
    for (const auto& span : batch) EXPECT_EQ(IdOf(span), expected++);
    EXPECT_LE(queue.Depth().memory_spans, 20u);
    queue.Acknowledge(batch);
    queue.RequestFlush();
  }
  EXPECT_EQ(expected, 100);
  EXPECT_EQ(queue.Depth().disk_spans, 0u);
  EXPECT_EQ(stats.dropped(), 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace jamjet::otlp
