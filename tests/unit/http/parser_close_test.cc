// MessageParser at the end of a stream: Close and TakePartial.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "agent/http/parser.h"
#include "agent/http/sse.h"
#include "tests/unit/http/http_fixtures.h"
#include "tests/unit/http/parser_test_util.h"

namespace jamjet::http {
namespace {

using namespace test_util;

TEST(ParserClose, CloseCompletesCloseDelimitedResponse) {
  for (std::string_view version : {"HTTP/1.1", "HTTP/1.0"}) {
    MessageParser parser(Direction::kResponse);
    std::string bytes = Concat(
        {version, " 200 OK\r\nContent-Type: application/json\r\n\r\n", kOpenAiJsonResponseBody});
    std::vector<Message> out;
    parser.Feed(bytes, 1000, out);
    EXPECT_TRUE(out.empty()) << version;
    parser.Close(5000, out);
    ASSERT_EQ(out.size(), 1u) << version;
    EXPECT_TRUE(out[0].complete) << version;
    EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody) << version;
    EXPECT_EQ(out[0].last_byte_ns, 1000u) << version;
  }
}

TEST(ParserClose, CloseReturnsCutOffMessagesPartial) {
  struct Case {
    std::string name;
    std::string bytes;
    std::string body;
  };
  std::string_view sse = kAnthropicSseResponse;
  std::vector<Case> cases = {
      {"InBody", std::string(kOpenAiJsonResponse.substr(0, kOpenAiJsonResponse.size() - 10)),
       std::string(kOpenAiJsonResponseBody.substr(0, kOpenAiJsonResponseBody.size() - 10))},
      {"InChunkedBody", std::string(sse.substr(0, sse.find("message_delta"))), ""},
      {"InHeaders", "HTTP/1.1 200 OK\r\nContent-Type: appl", ""},
  };
  for (const Case& c : cases) {
    MessageParser parser(Direction::kResponse);
    std::vector<Message> out = FeedAndClose(parser, c.bytes);
    ASSERT_EQ(out.size(), 1u) << c.name;
    EXPECT_FALSE(out[0].complete) << c.name;
    EXPECT_EQ(out[0].status_code, 200) << c.name;
    if (!c.body.empty()) {
      EXPECT_EQ(out[0].body, c.body) << c.name;
    }
    EXPECT_EQ(parser.stats().partial_messages, 1u) << c.name;
    EXPECT_EQ(parser.stats().parse_errors, 0u) << c.name;
  }
}

TEST(ParserClose, CloseWithoutMessageAppendsNothing) {
  MessageParser parser(Direction::kRequest);
  std::vector<Message> out = FeedAndClose(parser, kCurlGetModels);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].complete);
}

TEST(ParserClose, TakePartialThenResync) {
  MessageParser parser(Direction::kResponse);
  std::string_view sse = kAnthropicSseResponse;
  size_t cut = sse.find("content_block_delta");
  std::vector<Message> out = FeedPieces(parser, {sse.substr(0, cut)});
  parser.TakePartial(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].complete);
  EXPECT_EQ(ParseSse(out[0].body).size(), 1u);

  out = FeedPieces(parser, {sse.substr(cut), kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody);
  parser.TakePartial(out);
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace jamjet::http
