#include "agent/http/content_decoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tests/unit/http/test_codecs.h"

namespace jamjet::http {
namespace {

using test_util::BrotliCompress;
using test_util::GzipCompress;
using test_util::RawDeflateCompress;
using test_util::ZlibCompress;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kChatJson =
    R"({"id":"chatcmpl-9x","object":"chat.completion","model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3}})";
constexpr size_t kLimit = 1 << 20;

struct CodingCase {
  std::string name;
  std::string content_encoding;
  std::function<std::string(std::string_view)> encode;
};

class DecodeContentRoundTrip : public ::testing::TestWithParam<CodingCase> {};

TEST_P(DecodeContentRoundTrip, DecodesEncodedJson) {
  const CodingCase& coding = GetParam();
  absl::StatusOr<DecodedContent> decoded =
      DecodeContent(coding.content_encoding, coding.encode(kChatJson), kLimit);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->data, kChatJson);
  EXPECT_FALSE(decoded->truncated);
  EXPECT_FALSE(decoded->input_ended_early);
}

std::string Identity(std::string_view data) { return std::string(data); }

INSTANTIATE_TEST_SUITE_P(
    Codings, DecodeContentRoundTrip,
    ::testing::Values(
        CodingCase{"Empty", "", Identity}, CodingCase{"Identity", "identity", Identity},
        CodingCase{"Gzip", "gzip", GzipCompress}, CodingCase{"XGzip", "x-gzip", GzipCompress},
        CodingCase{"GzipUpperCase", "GZIP", GzipCompress},
        CodingCase{"DeflateZlib", "deflate", ZlibCompress},
        CodingCase{"DeflateRaw", "deflate", RawDeflateCompress},
        CodingCase{"Brotli", "br", BrotliCompress},
        CodingCase{"GzipThenBrotli", "gzip, br",
                   [](std::string_view data) { return BrotliCompress(GzipCompress(data)); }},
        CodingCase{"BrotliThenDeflate", "br,deflate",
                   [](std::string_view data) { return ZlibCompress(BrotliCompress(data)); }},
        CodingCase{"IdentityInList", " identity , gzip ", GzipCompress}),
    [](const ::testing::TestParamInfo<CodingCase>& info) { return info.param.name; });

TEST(DecodeContent, ConcatenatedGzipMembers) {
  std::string body = GzipCompress("first,") + GzipCompress("second");
  absl::StatusOr<DecodedContent> decoded = DecodeContent("gzip", body, kLimit);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->data, "first,second");
}

TEST(DecodeContent, UnknownCodingNamed) {
  absl::StatusOr<DecodedContent> decoded = DecodeContent("zstd", "abc", kLimit);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(decoded.status().message()), HasSubstr("\"zstd\""));
}

TEST(DecodeContent, CorruptGzipIsError) {
  std::string body = GzipCompress(kChatJson);
  body[12] ^= 0x55;  // inside the deflate stream, past the 10-byte gzip header
  body[13] ^= 0xff;
  absl::StatusOr<DecodedContent> decoded = DecodeContent("gzip", body, kLimit);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()), StartsWith("invalid gzip data: "));
}

TEST(DecodeContent, GarbageIsError) {
  struct Case {
    const char* coding;
    const char* prefix;
  };
  for (Case c : {Case{"gzip", "invalid gzip data: "}, Case{"deflate", "invalid deflate data: "},
                 Case{"br", "invalid brotli data: "}}) {
    absl::StatusOr<DecodedContent> decoded =
        DecodeContent(c.coding, "this is plain text, not compressed at all", kLimit);
    ASSERT_FALSE(decoded.ok()) << c.coding;
    EXPECT_THAT(std::string(decoded.status().message()), StartsWith(c.prefix));
  }
}

TEST(DecodeContent, TruncatedInputReturnsPrefix) {
  std::string text(50000, 'a');
  for (size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  for (const auto& [coding, encoded] :
       {std::pair{"gzip", GzipCompress(text)}, std::pair{"deflate", ZlibCompress(text)},
        std::pair{"br", BrotliCompress(text)}}) {
    std::string cut = encoded.substr(0, encoded.size() / 2);
    absl::StatusOr<DecodedContent> decoded = DecodeContent(coding, cut, kLimit);
    ASSERT_TRUE(decoded.ok()) << coding << ": " << decoded.status();
    EXPECT_TRUE(decoded->input_ended_early) << coding;
    EXPECT_FALSE(decoded->truncated) << coding;
    EXPECT_LT(decoded->data.size(), text.size()) << coding;
    EXPECT_EQ(decoded->data, text.substr(0, decoded->data.size())) << coding;
  }
}

TEST(DecodeContent, EmptyGzipInputEndsEarly) {
  absl::StatusOr<DecodedContent> decoded = DecodeContent("gzip", "", kLimit);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->input_ended_early);
  EXPECT_EQ(decoded->data, "");
}

TEST(DecodeContent, BombCappedAtLimit) {
  std::string zeros(16 << 20, '\0');
  std::string gzip = GzipCompress(zeros);
  std::string brotli = BrotliCompress(zeros);
  zeros.clear();
  zeros.shrink_to_fit();
  ASSERT_LT(gzip.size(), 100u << 10);
  for (const auto& [coding, encoded] : {std::pair{"gzip", gzip}, std::pair{"br", brotli}}) {
    absl::StatusOr<DecodedContent> decoded = DecodeContent(coding, encoded, 1000);
    ASSERT_TRUE(decoded.ok()) << coding;
    EXPECT_TRUE(decoded->truncated) << coding;
    EXPECT_EQ(decoded->data.size(), 1000u) << coding;
    EXPECT_LE(decoded->data.capacity(), 64u << 10) << coding;
  }
}

TEST(DecodeContent, OutputExactlyAtLimitNotTruncated) {
  absl::StatusOr<DecodedContent> decoded = DecodeContent("gzip", GzipCompress("12345"), 5);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->data, "12345");
  EXPECT_FALSE(decoded->truncated);
}

TEST(DecodeContent, IdentityCapped) {
  absl::StatusOr<DecodedContent> decoded = DecodeContent("identity", "abcdef", 4);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->data, "abcd");
  EXPECT_TRUE(decoded->truncated);
}

TEST(DecodeContent, StackedTruncationPropagates) {
  std::string text(100000, 'x');
  absl::StatusOr<DecodedContent> decoded =
      DecodeContent("gzip, br", BrotliCompress(GzipCompress(text)), 10);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->truncated);
  EXPECT_EQ(decoded->data, text.substr(0, 10));
}

TEST(IsIdentityEncoding, Lists) {
  EXPECT_TRUE(IsIdentityEncoding(""));
  EXPECT_TRUE(IsIdentityEncoding("identity"));
  EXPECT_TRUE(IsIdentityEncoding(" Identity , "));
  EXPECT_FALSE(IsIdentityEncoding("gzip"));
  EXPECT_FALSE(IsIdentityEncoding("identity, br"));
}

}  // namespace
}  // namespace jamjet::http
