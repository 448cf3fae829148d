#include "exporter/otlp/retry_policy.h"

#include <gtest/gtest.h>

#include <set>

namespace jamjet::otlp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 2015-10-21T07:28:00Z
const auto kNow = std::chrono::system_clock::from_time_t(1445412480);

TEST(RetryAfterTest, DeltaSeconds) {
  EXPECT_EQ(ParseRetryAfter("120", kNow), milliseconds(120'000));
  EXPECT_EQ(ParseRetryAfter(" 3\r\n", kNow), milliseconds(3'000));
  EXPECT_EQ(ParseRetryAfter("0", kNow), milliseconds(0));
}

TEST(RetryAfterTest, ImfFixdate) {
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", kNow), milliseconds(10'000));
}

TEST(RetryAfterTest, ObsoleteDateForms) {
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:28:05 GMT", kNow), milliseconds(5'000));
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:07 2015", kNow), milliseconds(7'000));
}

TEST(RetryAfterTest, PastDateIsZero) {
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", kNow), milliseconds(0));
}

TEST(RetryAfterTest, InvalidValues) {
  EXPECT_EQ(ParseRetryAfter("", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:10", kNow), std::nullopt);
}

TEST(RetryAfterTest, HugeDeltaIsClamped) {
  auto wait = ParseRetryAfter("999999999999", kNow);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, seconds(10'000'000));
}

TEST(RetryableStatusTest, OnlyOtlpRetryableCodes) {
  for (long status : {429L, 502L, 503L, 504L}) EXPECT_TRUE(IsRetryableStatus(status)) << status;
  for (long status : {200L, 400L, 401L, 403L, 404L, 413L, 500L, 501L}) {
    EXPECT_FALSE(IsRetryableStatus(status)) << status;
  }
}

TEST(BackoffTest, GrowsWithJitterAndCap) {
  Backoff backoff(milliseconds(100), milliseconds(1'000), 42);
  const int64_t expected_max[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t max : expected_max) {
    milliseconds delay = backoff.NextDelay();
    EXPECT_GE(delay.count(), max / 2);
    EXPECT_LE(delay.count(), max);
  }
  EXPECT_EQ(backoff.attempt(), 7);
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff(milliseconds(100), milliseconds(10'000), 7);
  for (int i = 0; i < 5; ++i) backoff.NextDelay();
  backoff.Reset();
  EXPECT_LE(backoff.NextDelay().count(), 100);
}

TEST(BackoffTest, JitterVaries) {
  Backoff backoff(milliseconds(1'000), milliseconds(1'000), 1);
  std::set<int64_t> delays;
  for (int i = 0; i < 20; ++i) delays.insert(backoff.NextDelay().count());
  EXPECT_GT(delays.size(), 5u);
}

}  // namespace
}  // namespace jamjet::otlp
