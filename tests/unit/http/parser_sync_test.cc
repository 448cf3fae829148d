// MessageParser synchronisation: attaching mid-connection, gaps, parse errors, header limits and
// arbitrary input.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "agent/http/parser.h"
#include "tests/unit/http/http_fixtures.h"
#include "tests/unit/http/parser_test_util.h"

namespace jamjet::http {
namespace {

using namespace test_util;

TEST(ParserSync, MidConnectionResponseStart) {
  MessageParser parser(Direction::kResponse);
  std::string_view sse = kAnthropicSseResponse;
  std::string_view tail = sse.substr(sse.find("event: message_delta"));
  std::vector<Message> out = FeedPieces(parser, {tail, kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody);
  EXPECT_EQ(out[0].first_byte_ns, 1001u);
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, tail.size());
  EXPECT_EQ(parser.stats().parse_errors, 0u);
}

TEST(ParserSync, MidConnectionRequestStart) {
  MessageParser parser(Direction::kRequest);
  std::string_view body = kHttpxChatRequestBody;
  std::vector<Message> out = FeedPieces(parser, {body.substr(10), kCurlGetModels});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "/v1/models");
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, body.size() - 10);
}

TEST(ParserSync, StartInsideFeedIsSkipped) {
  // A message start after offset 0 is not trusted: it may be body bytes that look like HTTP.
  MessageParser parser(Direction::kResponse);
  std::string bytes = Concat({"ody tail}", kOpenAiJsonResponse});
  std::vector<Message> out = FeedPieces(parser, {bytes, kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first_byte_ns, 1001u);
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, bytes.size());
}

TEST(ParserSync, StartSplitAcrossFeeds) {
  MessageParser parser(Direction::kResponse);
  std::string_view bytes = kOpenAiJsonResponse;
  std::vector<Message> out =
      FeedPieces(parser, {bytes.substr(0, 3), bytes.substr(3, 4), bytes.substr(7)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first_byte_ns, 1000u);
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, 0u);
}

TEST(ParserSync, RejectedPrefixIsSkipped) {
  MessageParser parser(Direction::kResponse);
  // "HTTP" could begin a status line, but the next Feed shows it was SSE data.
  std::vector<Message> out =
      FeedPieces(parser, {"HTTP", " is a protocol\n\n", "HTTP/1.", kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first_byte_ns, 1003u);
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, 4u + 16u + 7u);
}

TEST(ParserSync, OverlongRequestPrefixIsSkipped) {
  MessageParser parser(Direction::kRequest,
                       ParserLimits{.max_body_bytes = 1024, .max_header_bytes = 256});
  std::string long_target = "GET /" + std::string(300, 'a');
  std::vector<Message> out =
      FeedPieces(parser, {long_target.substr(0, 200), long_target.substr(200), kCurlGetModels});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, long_target.size());
}

TEST(ParserSync, MarkGapDropsMessageUnderWay) {
  MessageParser parser(Direction::kResponse);
  std::string_view sse = kAnthropicSseResponse;
  size_t cut = sse.find("content_block_delta");
  std::vector<Message> out = FeedPieces(parser, {sse.substr(0, cut)});
  parser.MarkGap();
  out = FeedPieces(parser, {sse.substr(cut + 100), kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody);
  EXPECT_EQ(parser.stats().gaps, 1u);
  EXPECT_EQ(parser.stats().partial_messages, 0u);
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, sse.size() - cut - 100);
}

TEST(ParserSync, MarkGapBetweenMessages) {
  MessageParser parser(Direction::kRequest);
  std::vector<Message> out = FeedPieces(parser, {kCurlGetModels});
  parser.MarkGap();
  parser.MarkGap();
  out = FeedPieces(parser, {kHttpxChatRequest});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kHttpxChatRequestBody);
  EXPECT_EQ(parser.stats().gaps, 2u);
}

struct ErrorCase {
  std::string name;
  Direction direction;
  std::string bytes;
  size_t messages_before_error;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ParseErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTest, CountsErrorAndResyncs) {
  const ErrorCase& c = GetParam();
  MessageParser parser(c.direction);
  std::string_view next = c.direction == Direction::kRequest ? kCurlGetModels : kOpenAiJsonResponse;
  std::vector<Message> out = FeedPieces(parser, {c.bytes, next});
  ASSERT_EQ(out.size(), c.messages_before_error + 1);
  EXPECT_TRUE(out.back().complete);
  EXPECT_EQ(out.back().first_byte_ns, 1001u);
  EXPECT_EQ(parser.stats().parse_errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, ParseErrorTest,
    ::testing::Values(
        ErrorCase{"UnknownMethod", Direction::kRequest, "BREW /pot HTTP/1.1\r\n\r\n", 0},
        ErrorCase{"BadVersion", Direction::kRequest, "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 0},
        ErrorCase{"JunkAfterVersion", Direction::kRequest, "GET / HTTP/1.1 junk\r\n\r\n", 0},
        ErrorCase{"HeaderWithoutColon", Direction::kRequest,
                  "POST /v1/chat HTTP/1.1\r\nHost api.openai.com\r\n\r\n", 0},
        ErrorCase{"BadContentLength", Direction::kRequest,
                  "POST / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n", 0},
        ErrorCase{"BadStatusCode", Direction::kResponse, "HTTP/1.1 2x0 OK\r\n\r\n", 0},
        ErrorCase{"BadChunkSize", Direction::kResponse,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n", 0},
        ErrorCase{"ChunkSizeOverflow", Direction::kResponse,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "fffffffffffffffff\r\n",
                  0},
        ErrorCase{"GarbageAfterMessage", Direction::kResponse,
                  Concat({kOpenAiJsonResponse, "\x16\x03\x01garbage"}), 1},
        ErrorCase{"GarbageAfterRequest", Direction::kRequest,
                  Concat({kCurlGetModels, "not a request at all"}), 1}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(ParserLimits, HeaderOverflowResyncs) {
  for (size_t limit : {size_t{1024}, size_t{64} << 10}) {
    MessageParser parser(Direction::kResponse, ParserLimits{.max_header_bytes = limit});
    std::string big = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(limit + 10, 'v') + "\r\n";
    std::vector<Message> out =
        FeedPieces(parser, {big, "Content-Length: 0\r\n\r\n", kOpenAiJsonResponse});
    ASSERT_EQ(out.size(), 1u) << limit;
    EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody) << limit;
    EXPECT_EQ(parser.stats().parse_errors, 1u) << limit;
  }
}

TEST(ParserLimits, LibraryHeaderLimitStillApplies) {
  // http-parser stops at 80 KiB of headers even when max_header_bytes allows more.
  MessageParser parser(Direction::kResponse, ParserLimits{.max_header_bytes = 1 << 20});
  std::string big = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(100 << 10, 'v') + "\r\n\r\n";
  std::vector<Message> out = FeedPieces(parser, {big, kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(parser.stats().parse_errors, 1u);
}

TEST(ParserLimits, ManySmallHeadersOverflow) {
  MessageParser parser(Direction::kRequest, ParserLimits{.max_header_bytes = 2048});
  std::string request = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 200; ++i) request += "X-H" + std::to_string(i) + ": value\r\n";
  std::vector<Message> out = FeedPieces(parser, {request + "\r\n", kCurlGetModels});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(parser.stats().parse_errors, 1u);
}

TEST(ParserLimits, TrailerOverflow) {
  MessageParser parser(Direction::kResponse, ParserLimits{.max_header_bytes = 1024});
  std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n";
  for (int i = 0; i < 100; ++i) response += "X-Trailer-" + std::to_string(i) + ": value\r\n";
  std::vector<Message> out = FeedPieces(parser, {response + "\r\n", kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(parser.stats().parse_errors, 1u);
}

// Feeds the bytes in random pieces with occasional gaps and checks the limits on every message.
void FeedRandomly(MessageParser& parser, std::string_view bytes, std::mt19937& random,
                  const ParserLimits& limits) {
  std::vector<Message> out;
  size_t offset = 0;
  while (offset < bytes.size()) {
    size_t size = std::uniform_int_distribution<size_t>(1, 64)(random);
    parser.Feed(bytes.substr(offset, size), offset + 1, out);
    offset += size;
    if (random() % 50 == 0) parser.MarkGap();
  }
  if (random() % 2 == 0) parser.TakePartial(out);
  parser.Close(offset + 1, out);
  for (const Message& message : out) {
    ASSERT_LE(message.body.size(), limits.max_body_bytes);
    size_t header_bytes = message.target.size();
    for (const Header& header : message.headers) {
      header_bytes += header.name.size() + header.value.size();
    }
    ASSERT_LE(header_bytes, limits.max_header_bytes);
  }
}

TEST(ParserFuzz, RandomBytesNeverCrash) {
  std::mt19937 random(12345);
  ParserLimits limits{.max_body_bytes = 4096, .max_header_bytes = 1024};
  uint64_t skipped_or_errors = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string bytes(std::uniform_int_distribution<size_t>(1, 2000)(random), '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    if (iteration % 3 == 0) bytes.insert(0, iteration % 2 ? "HTTP/1.1 " : "POST / HTTP/1.1\r\n");
    for (Direction direction : {Direction::kRequest, Direction::kResponse}) {
      MessageParser parser(direction, limits);
      FeedRandomly(parser, bytes, random, limits);
      skipped_or_errors += parser.stats().parse_errors + parser.stats().unsynced_bytes_skipped;
    }
  }
  EXPECT_GT(skipped_or_errors, 0u);
}

TEST(ParserFuzz, MutatedMessagesNeverCrash) {
  std::mt19937 random(777);
  ParserLimits limits{.max_body_bytes = 512, .max_header_bytes = 512};
  const std::string requests = Concat({kHttpxChatRequest, kCurlGetModels, kUndiciMessagesRequest});
  const std::string responses = Concat({"HTTP/1.1 100 Continue\r\n\r\n", kOpenAiJsonResponse,
                                        kAnthropicSseResponse, kOpenAiSseResponse});
  uint64_t parse_errors = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    bool request = iteration % 2 == 0;
    std::string bytes = request ? requests : responses;
    int mutations = std::uniform_int_distribution<int>(1, 8)(random);
    for (int i = 0; i < mutations; ++i) {
      size_t position = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(random);
      switch (random() % 3) {
        case 0:
          bytes[position] = static_cast<char>(random());
          break;
        case 1:
          bytes.erase(position, std::uniform_int_distribution<size_t>(1, 20)(random));
          break;
        default:
          bytes.insert(position, std::string(random() % 5 + 1, static_cast<char>(random())));
          break;
      }
    }
    MessageParser parser(request ? Direction::kRequest : Direction::kResponse, limits);
    if (!request) parser.PushRequestMethod(random() % 4 == 0 ? "HEAD" : "POST");
    FeedRandomly(parser, bytes, random, limits);
    parse_errors += parser.stats().parse_errors;
  }
  EXPECT_GT(parse_errors, 0u);
}

}  // namespace
}  // namespace jamjet::http
