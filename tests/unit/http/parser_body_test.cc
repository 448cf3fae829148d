// MessageParser body handling: content decoding, size caps and broken compressed bodies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "agent/http/parser.h"
#include "agent/http/sse.h"
#include "tests/unit/http/http_fixtures.h"
#include "tests/unit/http/parser_test_util.h"
#include "tests/unit/http/test_codecs.h"

namespace jamjet::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace test_util;

std::string JsonResponse(std::string_view content_encoding, std::string_view body) {
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
  if (!content_encoding.empty()) {
    response += "Content-Encoding: " + std::string(content_encoding) + "\r\n";
  }
  response += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return response + std::string(body);
}

// Chunked response with the body split into chunks of chunk_size bytes.
std::string ChunkedResponse(std::string_view content_encoding, std::string_view body,
                            size_t chunk_size) {
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n";
  response += "Content-Encoding: " + std::string(content_encoding) + "\r\n";
  response += "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t offset = 0; offset < body.size(); offset += chunk_size) {
    std::string_view piece = body.substr(offset, chunk_size);
    char size_line[16];
    snprintf(size_line, sizeof(size_line), "%zx\r\n", piece.size());
    response += size_line + std::string(piece) + "\r\n";
  }
  return response + "0\r\n\r\n";
}

struct EncodedCase {
  std::string name;
  std::string content_encoding;
  std::function<std::string(std::string_view)> encode;
};

class EncodedBodyTest : public ::testing::TestWithParam<EncodedCase> {};

TEST_P(EncodedBodyTest, JsonResponseDecoded) {
  const EncodedCase& c = GetParam();
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out =
      FeedPieces(parser, {JsonResponse(c.content_encoding, c.encode(kOpenAiJsonResponseBody))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].decode_error, "");
  EXPECT_EQ(out[0].body, kOpenAiJsonResponseBody);
  EXPECT_EQ(parser.stats().decode_errors, 0u);
}

TEST_P(EncodedBodyTest, ChunkedSseStreamDecoded) {
  const EncodedCase& c = GetParam();
  MessageParser parser(Direction::kResponse);
  std::string response = ChunkedResponse(c.content_encoding, c.encode(kAnthropicSseBody), 17);
  std::vector<Message> out;
  for (size_t offset = 0; offset < response.size(); offset += 50) {
    parser.Feed(std::string_view(response).substr(offset, 50), offset + 1, out);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kAnthropicSseBody);
  EXPECT_EQ(ParseSse(out[0].body).size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Codings, EncodedBodyTest,
                         ::testing::Values(EncodedCase{"Gzip", "gzip", GzipCompress},
                                           EncodedCase{"XGzip", "x-gzip", GzipCompress},
                                           EncodedCase{"DeflateZlib", "deflate", ZlibCompress},
                                           EncodedCase{"DeflateRaw", "deflate", RawDeflateCompress},
                                           EncodedCase{"Brotli", "br", BrotliCompress},
                                           EncodedCase{"GzipThenBrotli", "gzip, br",
                                                       [](std::string_view data) {
                                                         return BrotliCompress(GzipCompress(data));
                                                       }}),
                         [](const ::testing::TestParamInfo<EncodedCase>& info) {
                           return info.param.name;
                         });

TEST(ParserBody, GzipRequestBodyDecoded) {
  MessageParser parser(Direction::kRequest);
  std::string body = GzipCompress(kHttpxChatRequestBody);
  std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
      "Content-Encoding: gzip\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  std::vector<Message> out = FeedPieces(parser, {request});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kHttpxChatRequestBody);
}

TEST(ParserBody, IdentityBodyCapped) {
  ParserLimits limits{.max_body_bytes = 1000};
  std::string big(5000, 'x');
  for (std::string response : {JsonResponse("", big), ChunkedResponse("identity", big, 300)}) {
    MessageParser parser(Direction::kResponse, limits);
    std::vector<Message> out = FeedPieces(parser, {response, kOpenAiJsonResponse});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].body, big.substr(0, 1000));
    EXPECT_TRUE(out[0].body_truncated);
    EXPECT_TRUE(out[0].complete);
    EXPECT_LE(out[0].body.capacity(), 2000u);
    EXPECT_EQ(out[1].body, kOpenAiJsonResponseBody);
    EXPECT_FALSE(out[1].body_truncated);
    EXPECT_EQ(parser.stats().truncated_bodies, 1u);
  }
}

TEST(ParserBody, BodyExactlyAtCapNotTruncated) {
  MessageParser parser(Direction::kResponse, ParserLimits{.max_body_bytes = 5});
  std::vector<Message> out = FeedPieces(parser, {JsonResponse("", "12345")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].body_truncated);
}

TEST(ParserBody, DecompressionBombCapped) {
  std::string bomb = GzipCompress(std::string(32 << 20, '\0'));
  MessageParser parser(Direction::kResponse, ParserLimits{.max_body_bytes = 1 << 20});
  std::vector<Message> out = FeedPieces(parser, {JsonResponse("gzip", bomb)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body.size(), size_t{1} << 20);
  EXPECT_TRUE(out[0].body_truncated);
  EXPECT_EQ(out[0].decode_error, "");
  EXPECT_EQ(parser.stats().truncated_bodies, 1u);
}

TEST(ParserBody, EncodedBytesCapped) {
  // Random bytes do not compress, so the encoded body exceeds the cap before decoding.
  std::mt19937 random(99);
  std::string noise(20000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  MessageParser parser(Direction::kResponse, ParserLimits{.max_body_bytes = 4096});
  std::vector<Message> out = FeedPieces(parser, {JsonResponse("gzip", GzipCompress(noise))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].body_truncated);
  EXPECT_EQ(out[0].decode_error, "");
  EXPECT_LE(out[0].body.size(), 4096u);
  EXPECT_EQ(out[0].body, noise.substr(0, out[0].body.size()));
}

TEST(ParserBody, TruncatedGzipInCompleteMessageIsDecodeError) {
  std::string gzip = GzipCompress(kOpenAiJsonResponseBody);
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out =
      FeedPieces(parser, {JsonResponse("gzip", gzip.substr(0, gzip.size() / 2))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].complete);
  EXPECT_EQ(out[0].body, "");
  EXPECT_THAT(out[0].decode_error, HasSubstr("ended inside the compressed stream"));
  EXPECT_EQ(parser.stats().decode_errors, 1u);
}

TEST(ParserBody, CutOffGzipStreamKeepsPrefix) {
  std::mt19937 random(5);
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += "data: {\"delta\":\"token " + std::to_string(random()) + "\"}\n\n";
  }
  std::string response = ChunkedResponse("gzip", GzipCompress(text), 64);
  ASSERT_GT(response.size(), 2000u);
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedAndClose(parser, std::string_view(response).substr(0, 1500));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].complete);
  EXPECT_EQ(out[0].decode_error, "");
  EXPECT_GT(out[0].body.size(), 0u);
  EXPECT_EQ(out[0].body, text.substr(0, out[0].body.size()));
  EXPECT_EQ(parser.stats().decode_errors, 0u);
}

TEST(ParserBody, CorruptGzipIsDecodeError) {
  std::string gzip = GzipCompress(kOpenAiJsonResponseBody);
  gzip[12] ^= 0x55;
  gzip[13] ^= 0xff;
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedPieces(parser, {JsonResponse("gzip", gzip), kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].body, "");
  EXPECT_THAT(out[0].decode_error, StartsWith("invalid gzip data: "));
  EXPECT_EQ(out[1].body, kOpenAiJsonResponseBody);
  EXPECT_EQ(parser.stats().decode_errors, 1u);
}

TEST(ParserBody, UnknownCodingIsDecodeError) {
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedPieces(parser, {JsonResponse("zstd", "(compressed)")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, "");
  EXPECT_THAT(out[0].decode_error, HasSubstr("\"zstd\""));
}

TEST(ParserBody, EmptyEncodedBodyIsNotError) {
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedPieces(parser, {JsonResponse("gzip", "")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, "");
  EXPECT_EQ(out[0].decode_error, "");
}

}  // namespace
}  // namespace jamjet::http
