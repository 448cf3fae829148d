// MessageParser results must not depend on how the bytes are split across SSL calls.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "agent/http/parser.h"
#include "tests/unit/http/http_fixtures.h"
#include "tests/unit/http/parser_test_util.h"
#include "tests/unit/http/test_codecs.h"

namespace jamjet::http {
namespace {

using namespace test_util;

struct SplitCase {
  std::string name;
  Direction direction;
  std::string bytes;
  size_t messages;  // expected count when fed whole and closed
};

std::string ChunkedGzipSseResponse() {
  std::string gzip = GzipCompress(kAnthropicSseBody);
  std::string bytes =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t offset = 0; offset < gzip.size(); offset += 40) {
    std::string piece = gzip.substr(offset, 40);
    char size_line[16];
    snprintf(size_line, sizeof(size_line), "%zx\r\n", piece.size());
    bytes += size_line + piece + "\r\n";
  }
  return bytes + "0\r\n\r\n";
}

std::vector<SplitCase> SplitCases() {
  return {
      {"CurlGet", Direction::kRequest, std::string(kCurlGetModels), 1},
      {"HttpxPost", Direction::kRequest, std::string(kHttpxChatRequest), 1},
      {"PipelinedRequests", Direction::kRequest,
       Concat({kUndiciMessagesRequest, kCurlGetModels, kHttpxChatRequest}), 3},
      {"OpenAiJson", Direction::kResponse, std::string(kOpenAiJsonResponse), 1},
      {"AnthropicSse", Direction::kResponse, std::string(kAnthropicSseResponse), 1},
      {"OpenAiSseTrailer", Direction::kResponse, std::string(kOpenAiSseResponse), 1},
      {"ContinueThenJson", Direction::kResponse,
       Concat({"HTTP/1.1 100 Continue\r\n\r\n", kOpenAiJsonResponse}), 2},
      {"KeepAliveResponses", Direction::kResponse,
       Concat({kOpenAiJsonResponse, "HTTP/1.1 204 No Content\r\n\r\n", kAnthropicSseResponse}), 3},
      {"GzipSse", Direction::kResponse, ChunkedGzipSseResponse(), 1},
      {"CloseDelimited", Direction::kResponse,
       Concat(
           {"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", kOpenAiJsonResponseBody}),
       1},
  };
}

std::vector<Message> FeedWhole(const SplitCase& c) {
  MessageParser parser(c.direction);
  return FeedAndClose(parser, c.bytes);
}

class SplitTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitTest, WholeFeedParses) {
  const SplitCase& c = GetParam();
  MessageParser parser(c.direction);
  std::vector<Message> out = FeedAndClose(parser, c.bytes);
  ASSERT_EQ(out.size(), c.messages);
  for (const Message& message : out) {
    EXPECT_TRUE(message.complete);
    EXPECT_EQ(message.decode_error, "");
  }
  EXPECT_EQ(parser.stats().parse_errors, 0u);
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, 0u);
}

TEST_P(SplitTest, EveryTwoFeedSplit) {
  const SplitCase& c = GetParam();
  std::vector<std::string> expected = DescribeAll(FeedWhole(c));
  std::string_view bytes = c.bytes;
  for (size_t split = 0; split <= bytes.size(); ++split) {
    MessageParser parser(c.direction);
    std::vector<Message> out;
    parser.Feed(bytes.substr(0, split), 100, out);
    parser.Feed(bytes.substr(split), 200, out);
    parser.Close(300, out);
    ASSERT_EQ(DescribeAll(out), expected) << "split at " << split;
    EXPECT_EQ(out.front().first_byte_ns, split == 0 ? 200u : 100u) << "split at " << split;
    EXPECT_EQ(out.back().last_byte_ns, split == bytes.size() ? 100u : 200u) << "split at " << split;
    EXPECT_EQ(parser.stats().unsynced_bytes_skipped, 0u) << "split at " << split;
  }
}

TEST_P(SplitTest, ByteAtATime) {
  const SplitCase& c = GetParam();
  std::vector<std::string> expected = DescribeAll(FeedWhole(c));
  MessageParser parser(c.direction);
  std::vector<Message> out;
  for (size_t i = 0; i < c.bytes.size(); ++i) {
    parser.Feed(std::string_view(c.bytes).substr(i, 1), 1000 + i, out);
  }
  parser.Close(1000 + c.bytes.size(), out);
  ASSERT_EQ(DescribeAll(out), expected);
  EXPECT_EQ(out.front().first_byte_ns, 1000u);
  EXPECT_EQ(out.back().last_byte_ns, 1000 + c.bytes.size() - 1);
}

INSTANTIATE_TEST_SUITE_P(Messages, SplitTest, ::testing::ValuesIn(SplitCases()),
                         [](const ::testing::TestParamInfo<SplitCase>& info) {
                           return info.param.name;
                         });

TEST(SplitTest, EveryThreeFeedSplitOfChunkedResponse) {
  std::string_view bytes = kOpenAiSseResponse;
  MessageParser whole(Direction::kResponse);
  std::vector<std::string> expected = DescribeAll(FeedAndClose(whole, bytes));
  for (size_t first = 0; first <= bytes.size(); first += 3) {
    for (size_t second = first; second <= bytes.size(); ++second) {
      MessageParser parser(Direction::kResponse);
      std::vector<Message> out = FeedPieces(
          parser,
          {bytes.substr(0, first), bytes.substr(first, second - first), bytes.substr(second)});
      ASSERT_EQ(DescribeAll(out), expected) << "splits at " << first << ", " << second;
    }
  }
}

TEST(SplitTest, FirstBodyByteTimestampFollowsSplit) {
  std::string_view bytes = kOpenAiJsonResponse;
  size_t body_start = bytes.find("\r\n\r\n") + 4;
  for (size_t split = 1; split < bytes.size(); ++split) {
    MessageParser parser(Direction::kResponse);
    std::vector<Message> out =
        FeedPieces(parser, {bytes.substr(0, split), bytes.substr(split)}, 100);
    ASSERT_EQ(out.size(), 1u) << "split at " << split;
    EXPECT_EQ(out[0].first_body_byte_ns, split > body_start ? 100u : 101u) << "split at " << split;
  }
}

}  // namespace
}  // namespace jamjet::http
