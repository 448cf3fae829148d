// MessageParser on whole messages: requests, responses, keep-alive, interim and bodiless
// responses, close-delimited bodies and timestamps.
#include "agent/http/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/http/sse.h"
#include "tests/unit/http/http_fixtures.h"
#include "tests/unit/http/parser_test_util.h"

namespace jamjet::http {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using namespace test_util;

struct RequestCase {
  std::string name;
  std::string_view bytes;
  std::string method;
  std::string target;
  std::string_view body;
  std::string host_header;
};

class RequestParse : public ::testing::TestWithParam<RequestCase> {};

TEST_P(RequestParse, ParsesClientRequest) {
  const RequestCase& c = GetParam();
  MessageParser parser(Direction::kRequest);
  std::vector<Message> out = FeedPieces(parser, {c.bytes});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].method, c.method);
  EXPECT_EQ(out[0].target, c.target);
  EXPECT_EQ(out[0].body, c.body);
  EXPECT_THAT(FindHeader(out[0].headers, "Host"), Optional(std::string_view(c.host_header)));
  EXPECT_TRUE(out[0].complete);
  EXPECT_EQ(out[0].status_code, 0);
  EXPECT_EQ(parser.stats().messages, 1u);
  EXPECT_EQ(parser.stats().parse_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Clients, RequestParse,
    ::testing::Values(
        RequestCase{"CurlGet", kCurlGetModels, "GET", "/v1/models", "", "api.openai.com"},
        RequestCase{"HttpxPost", kHttpxChatRequest, "POST", "/v1/chat/completions",
                    kHttpxChatRequestBody, "api.openai.com"},
        RequestCase{"UndiciPost", kUndiciMessagesRequest, "POST", "/v1/messages",
                    kUndiciMessagesRequestBody, "api.anthropic.com"},
        RequestCase{"ChunkedUpload",
                    "POST /v1/files?purpose=batch HTTP/1.1\r\n"
                    "Host: api.openai.com\r\n"
                    "Transfer-Encoding: chunked\r\n"
                    "\r\n"
                    "5\r\nhello\r\n"
                    "6\r\n world\r\n"
                    "0\r\n\r\n",
                    "POST", "/v1/files?purpose=batch", "hello world", "api.openai.com"}),
    [](const ::testing::TestParamInfo<RequestCase>& info) { return info.param.name; });

struct ResponseCase {
  std::string name;
  std::string_view bytes;
  int status_code;
  std::string_view body;
  size_t sse_events;  // events ParseSse finds in the body
};

class ResponseParse : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(ResponseParse, ParsesServerResponse) {
  const ResponseCase& c = GetParam();
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedPieces(parser, {c.bytes});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status_code, c.status_code);
  EXPECT_EQ(out[0].body, c.body);
  EXPECT_TRUE(out[0].complete);
  EXPECT_FALSE(out[0].body_truncated);
  EXPECT_EQ(out[0].decode_error, "");
  EXPECT_EQ(ParseSse(out[0].body).size(), c.sse_events);
  EXPECT_EQ(parser.stats().parse_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Servers, ResponseParse,
    ::testing::Values(
        ResponseCase{"OpenAiJson", kOpenAiJsonResponse, 200, kOpenAiJsonResponseBody, 0},
        ResponseCase{"AnthropicSse", kAnthropicSseResponse, 200, kAnthropicSseBody, 4},
        ResponseCase{"OpenAiSseWithTrailer", kOpenAiSseResponse, 200, kOpenAiSseBody, 3},
        ResponseCase{"RateLimited",
                     "HTTP/1.1 429 Too Many Requests\r\n"
                     "content-type: application/json\r\n"
                     "retry-after: 20\r\n"
                     "content-length: 31\r\n"
                     "\r\n"
                     R"({"error":{"type":"rate_limit"}})",
                     429, R"({"error":{"type":"rate_limit"}})", 0},
        ResponseCase{"ChunkedOverridesContentLength",
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Length: 100\r\n"
                     "Transfer-Encoding: chunked\r\n"
                     "\r\n"
                     "4;ext=1\r\nabcd\r\n0\r\n\r\n",
                     200, "abcd", 0},
        ResponseCase{"EmptyReasonPhrase", "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", 200, "ok",
                     0}),
    [](const ::testing::TestParamInfo<ResponseCase>& info) { return info.param.name; });

TEST(MessageParser, TrailerAppendedToHeaders) {
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedPieces(parser, {kOpenAiSseResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(FindHeader(out[0].headers, "x-trailer-checksum"), Optional(std::string_view("9f2c")));
  EXPECT_EQ(out[0].headers.back().name, "X-Trailer-Checksum");
}

TEST(MessageParser, HeaderNamesAsReceived) {
  MessageParser parser(Direction::kRequest);
  std::vector<Message> out = FeedPieces(parser, {kUndiciMessagesRequest});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_GE(out[0].headers.size(), 2u);
  EXPECT_EQ(out[0].headers[0].name, "host");
  EXPECT_EQ(out[0].headers[1].name, "connection");
  EXPECT_THAT(FindHeader(out[0].headers, "X-Api-Key"), Optional(std::string_view("sk-ant-test")));
}

TEST(MessageParser, EmptyAndPaddedHeaderValues) {
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedPieces(parser, {
                                                    "HTTP/1.1 200 OK\r\n"
                                                    "X-Empty:\r\n"
                                                    "X-Next:  padded \t\r\n"
                                                    "Content-Length: 0\r\n"
                                                    "\r\n",
                                                });
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].headers.size(), 3u);
  EXPECT_EQ(out[0].headers[0].name, "X-Empty");
  EXPECT_EQ(out[0].headers[0].value, "");
  EXPECT_EQ(out[0].headers[1].name, "X-Next");
  EXPECT_EQ(out[0].headers[1].value, "padded");
}

TEST(MessageParser, KeepAliveRequestsInOneFeed) {
  MessageParser parser(Direction::kRequest);
  std::string bytes = Concat({kCurlGetModels, kHttpxChatRequest, kUndiciMessagesRequest});
  std::vector<Message> out = FeedPieces(parser, {bytes});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].target, "/v1/models");
  EXPECT_EQ(out[1].body, kHttpxChatRequestBody);
  EXPECT_EQ(out[2].body, kUndiciMessagesRequestBody);
  EXPECT_EQ(parser.stats().messages, 3u);
}

TEST(MessageParser, KeepAliveResponsesAcrossFeeds) {
  MessageParser parser(Direction::kResponse);
  std::string joined = Concat({kOpenAiJsonResponse, kAnthropicSseResponse});
  // The second Feed starts inside the first response's body and carries the start of the next.
  size_t split = kOpenAiJsonResponse.size() - 5;
  std::vector<Message> out = FeedPieces(parser, {joined.substr(0, split), joined.substr(split),
                                                 kOpenAiSseResponse, kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody);
  EXPECT_EQ(out[1].body, kAnthropicSseBody);
  EXPECT_EQ(out[2].body, kOpenAiSseBody);
  EXPECT_EQ(out[3].body, kOpenAiJsonResponseBody);
  EXPECT_EQ(out[3].first_byte_ns, 1003u);
}

TEST(MessageParser, ContinueThenFinalResponse) {
  MessageParser parser(Direction::kResponse);
  parser.PushRequestMethod("POST");
  parser.PushRequestMethod("HEAD");
  std::vector<Message> out =
      FeedPieces(parser, {
                             "HTTP/1.1 100 Continue\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                             "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
                         });
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].status_code, 100);
  EXPECT_TRUE(out[0].complete);
  EXPECT_EQ(out[1].status_code, 200);
  EXPECT_EQ(out[1].body, "ok");
  // The 100 did not consume the POST entry, so the third response is the response to HEAD.
  EXPECT_TRUE(out[2].complete);
  EXPECT_EQ(out[2].body, "");
}

TEST(MessageParser, NoContentAndNotModifiedHaveNoBody) {
  MessageParser parser(Direction::kResponse);
  std::string bytes =
      Concat({"HTTP/1.1 204 No Content\r\nDate: Mon, 10 Jun 2024 12:00:00 GMT\r\n\r\n",
              "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\n\r\n", kOpenAiJsonResponse});
  std::vector<Message> out = FeedPieces(parser, {bytes});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].status_code, 204);
  EXPECT_EQ(out[0].first_body_byte_ns, 0u);
  EXPECT_EQ(out[1].status_code, 304);
  EXPECT_EQ(out[2].body, kOpenAiJsonResponseBody);
}

TEST(MessageParser, HeadResponseHasNoBody) {
  MessageParser parser(Direction::kResponse);
  parser.PushRequestMethod("HEAD");
  parser.PushRequestMethod("GET");
  std::string bytes =
      Concat({"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n"
              "Content-Encoding: gzip\r\n\r\n",
              kOpenAiJsonResponse});
  std::vector<Message> out = FeedPieces(parser, {bytes});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].body, "");
  EXPECT_EQ(out[0].decode_error, "");
  EXPECT_EQ(out[1].body, kOpenAiJsonResponseBody);
  EXPECT_EQ(parser.stats().decode_errors, 0u);
}

TEST(MessageParser, Timestamps) {
  MessageParser parser(Direction::kResponse);
  std::string_view sse = kAnthropicSseResponse;
  size_t body_start = sse.find("\r\n\r\n") + 4;
  std::vector<Message> out;
  parser.Feed(sse.substr(0, 10), 100, out);
  parser.Feed(sse.substr(10, body_start - 10), 200, out);
  parser.Feed(sse.substr(body_start, 40), 300, out);
  parser.Feed(sse.substr(body_start + 40), 400, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first_byte_ns, 100u);
  EXPECT_EQ(out[0].first_body_byte_ns, 300u);
  EXPECT_EQ(out[0].last_byte_ns, 400u);
}

TEST(MessageParser, MovedParserKeepsParsing) {
  MessageParser parser(Direction::kResponse);
  std::string_view bytes = kOpenAiJsonResponse;
  std::vector<Message> out = FeedPieces(parser, {bytes.substr(0, 50)});
  MessageParser moved = std::move(parser);
  moved.Feed(bytes.substr(50), 2000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody);
}

}  // namespace
}  // namespace jamjet::http
