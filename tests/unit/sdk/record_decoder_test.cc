// The agent's record decoder: each drop reason on handmade records, and a seeded fuzz run over
// random and mutated records.
#include "agent/user_context/record_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "jamjet/jamjet.h"
#include "tests/unit/sdk/random_context.h"
#include "tests/unit/sdk/sdk_test_util.h"

namespace {

using jamjet::sdk_test::OwnedContext;
using jamjet::sdk_test::RecordBytes;
using jamjet::user_context::DecodeRecord;
using jamjet::user_context::DecodeStatus;
using jamjet::user_context::DecodeStatusName;
using jamjet::user_context::kDecodeStatusCount;

// Builds a record byte by byte; Finish() writes the header with the payload length.
class RecordBuilder {
 public:
  RecordBuilder& U8(uint8_t value) {
    payload_.push_back(value);
    return *this;
  }
  RecordBuilder& U16(uint16_t value) {
    payload_.push_back(value & 0xff);
    payload_.push_back(value >> 8);
    return *this;
  }
  RecordBuilder& Bytes(const std::string& bytes) {
    payload_.insert(payload_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  RecordBuilder& String16(const std::string& text) {
    return U16(static_cast<uint16_t>(text.size())).Bytes(text);
  }
  RecordBuilder& Key(const std::string& key) {
    return U8(static_cast<uint8_t>(key.size())).Bytes(key);
  }
  RecordBuilder& Number(double value) {
    uint8_t bytes[8];
    std::memcpy(bytes, &value, sizeof bytes);
    payload_.insert(payload_.end(), bytes, bytes + 8);
    return *this;
  }
  std::vector<uint8_t> Finish(uint32_t magic = JJ_RECORD_MAGIC) const {
    return FinishWithLength(static_cast<uint16_t>(payload_.size()), magic);
  }
  std::vector<uint8_t> FinishWithLength(uint16_t payload_bytes,
                                        uint32_t magic = JJ_RECORD_MAGIC) const {
    std::vector<uint8_t> record(JJ_RECORD_HEADER_BYTES);
    jj_record_header header{magic, payload_bytes, 0};
    std::memcpy(record.data(), &header, sizeof header);
    record.insert(record.end(), payload_.begin(), payload_.end());
    return record;
  }

 private:
  std::vector<uint8_t> payload_;
};

// A valid record: user id "u", no email, and the attributes the caller appends.
RecordBuilder Minimal(uint8_t attr_count = 0) {
  RecordBuilder builder;
  builder.String16("u").U16(0).U8(attr_count);
  return builder;
}

TEST(RecordDecoder, MinimalRecord) {
  auto result = DecodeRecord(Minimal().Finish());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.context.user_id, "u");
  EXPECT_FALSE(result.context.email.has_value());
}

TEST(RecordDecoder, BadMagic) {
  EXPECT_EQ(DecodeRecord(Minimal().Finish(0x12345678)).status, DecodeStatus::kBadMagic);
  std::vector<uint8_t> zeros(JJ_RECORD_MAX_BYTES, 0);
  EXPECT_EQ(DecodeRecord(zeros).status, DecodeStatus::kBadMagic);
}

TEST(RecordDecoder, Truncated) {
  EXPECT_EQ(DecodeRecord({}).status, DecodeStatus::kTruncated);
  std::vector<uint8_t> record = Minimal().Finish();
  for (std::size_t size = 0; size < record.size(); ++size) {
    std::vector<uint8_t> prefix(record.begin(), record.begin() + size);
    EXPECT_EQ(DecodeRecord(prefix).status, DecodeStatus::kTruncated) << size;
  }
}

TEST(RecordDecoder, BadLength) {
  // Payload longer than a record can be.
  EXPECT_EQ(DecodeRecord(Minimal().FinishWithLength(JJ_RECORD_MAX_BYTES - 7)).status,
            DecodeStatus::kBadLength);
  // Payload shorter than its fields.
  EXPECT_EQ(DecodeRecord(Minimal().FinishWithLength(3)).status, DecodeStatus::kBadLength);
  // Bytes left over after the last attribute.
  EXPECT_EQ(DecodeRecord(Minimal().U8(0).Finish()).status, DecodeStatus::kBadLength);
  // Fields over their limits.
  const std::string long_user_id(JJ_USER_ID_MAX_BYTES + 1, 'u');
  EXPECT_EQ(DecodeRecord(RecordBuilder().String16(long_user_id).U16(0).U8(0).Finish()).status,
            DecodeStatus::kBadLength);
  const std::string long_email(JJ_EMAIL_MAX_BYTES + 1, 'e');
  EXPECT_EQ(DecodeRecord(RecordBuilder().String16("u").String16(long_email).U8(0).Finish()).status,
            DecodeStatus::kBadLength);
  const std::string long_key(JJ_ATTR_KEY_MAX_BYTES + 1, 'k');
  EXPECT_EQ(DecodeRecord(Minimal(1).Key(long_key).U8(JJ_ATTR_BOOL).U8(1).Finish()).status,
            DecodeStatus::kBadLength);
  const std::string long_value(JJ_ATTR_STRING_MAX_BYTES + 1, 'v');
  EXPECT_EQ(
      DecodeRecord(Minimal(1).Key("k").U8(JJ_ATTR_STRING).String16(long_value).Finish()).status,
      DecodeStatus::kBadLength);
  // A number cut short by the payload end.
  EXPECT_EQ(DecodeRecord(Minimal(1).Key("k").U8(JJ_ATTR_NUMBER).U16(0).Finish()).status,
            DecodeStatus::kBadLength);
}

TEST(RecordDecoder, InvalidUtf8) {
  EXPECT_EQ(DecodeRecord(RecordBuilder().String16("\xc0\xaf").U16(0).U8(0).Finish()).status,
            DecodeStatus::kInvalidUtf8);
  EXPECT_EQ(
      DecodeRecord(RecordBuilder().String16("u").String16("\xed\xa0\x80").U8(0).Finish()).status,
      DecodeStatus::kInvalidUtf8);
  EXPECT_EQ(
      DecodeRecord(Minimal(1).Key("k").U8(JJ_ATTR_STRING).String16("\xf4\x90\x80\x80").Finish())
          .status,
      DecodeStatus::kInvalidUtf8);
  // U+0000 is valid UTF-8, but the SDK cannot write it.
  EXPECT_EQ(
      DecodeRecord(RecordBuilder().String16(std::string("a\0b", 3)).U16(0).U8(0).Finish()).status,
      DecodeStatus::kInvalidUtf8);
}

TEST(RecordDecoder, InvalidKey) {
  EXPECT_EQ(DecodeRecord(Minimal(1).Key("9x").U8(JJ_ATTR_BOOL).U8(1).Finish()).status,
            DecodeStatus::kInvalidKey);
  EXPECT_EQ(DecodeRecord(Minimal(1).Key("").U8(JJ_ATTR_BOOL).U8(1).Finish()).status,
            DecodeStatus::kInvalidKey);
  EXPECT_EQ(
      DecodeRecord(
          Minimal(2).Key("plan").U8(JJ_ATTR_BOOL).U8(1).Key("plan").U8(JJ_ATTR_BOOL).U8(0).Finish())
          .status,
      DecodeStatus::kInvalidKey);
}

TEST(RecordDecoder, TooManyAttrs) {
  RecordBuilder builder = Minimal(JJ_ATTR_MAX_COUNT + 1);
  for (unsigned i = 0; i <= JJ_ATTR_MAX_COUNT; ++i) {
    builder.Key("k" + std::to_string(i)).U8(JJ_ATTR_BOOL).U8(1);
  }
  EXPECT_EQ(DecodeRecord(builder.Finish()).status, DecodeStatus::kTooManyAttrs);
}

TEST(RecordDecoder, BadType) {
  for (uint8_t type : {0, 4, 255}) {
    EXPECT_EQ(DecodeRecord(Minimal(1).Key("k").U8(type).U8(1).Finish()).status,
              DecodeStatus::kBadType)
        << int{type};
  }
}

TEST(RecordDecoder, InvalidValue) {
  EXPECT_EQ(DecodeRecord(Minimal(1).Key("k").U8(JJ_ATTR_BOOL).U8(2).Finish()).status,
            DecodeStatus::kInvalidValue);
  for (double value : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(DecodeRecord(Minimal(1).Key("k").U8(JJ_ATTR_NUMBER).Number(value).Finish()).status,
              DecodeStatus::kInvalidValue);
  }
}

TEST(RecordDecoder, MissingUserId) {
  EXPECT_EQ(DecodeRecord(RecordBuilder().U16(0).U16(0).U8(0).Finish()).status,
            DecodeStatus::kMissingUserId);
}

TEST(RecordDecoder, StatusNames) {
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kBadMagic), "bad_magic");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kMissingUserId), "missing_user_id");
  EXPECT_EQ(static_cast<std::size_t>(DecodeStatus::kMissingUserId) + 1, kDecodeStatusCount);
  for (std::size_t i = 0; i < kDecodeStatusCount; ++i) {
    EXPECT_NE(DecodeStatusName(static_cast<DecodeStatus>(i)), "unknown") << i;
  }
}

// Applies one random mutation to a record: flip bits, overwrite a byte, cut the end, or set a
// byte to a boundary value.
void Mutate(std::mt19937_64& random, std::vector<uint8_t>& record) {
  if (record.empty()) return;
  const std::size_t position = random() % record.size();
  switch (random() % 5) {
    case 0:
      record[position] ^= static_cast<uint8_t>(1u << (random() % 8));
      break;
    case 1:
      record[position] = static_cast<uint8_t>(random());
      break;
    case 2:
      record.resize(position);
      break;
    case 3: {
      static const uint8_t kBoundaries[] = {0x00, 0x01, 0x7f, 0x80, 0xbf, 0xc0, 0xed, 0xf4, 0xff};
      record[position] = kBoundaries[random() % sizeof kBoundaries];
      break;
    }
    default:
      record.insert(record.begin() + static_cast<std::ptrdiff_t>(position),
                    static_cast<uint8_t>(random()));
      break;
  }
}

// Every record the decoder accepts must be the one the SDK writes for the decoded context, so
// the decoder accepts nothing that the SDK could not have produced.
void ExpectCanonical(const std::vector<uint8_t>& input,
                     const jamjet::user_context::UserContext& context) {
  OwnedContext owned(context);
  jamjet_record record;
  ASSERT_EQ(jamjet_record_encode(&owned.View(), &record), JAMJET_OK) << jamjet_last_error();
  std::span<const uint8_t> encoded = RecordBytes(record);
  ASSERT_LE(encoded.size(), input.size());
  // Bytes 6 and 7 are the reserved header field, which the decoder ignores.
  EXPECT_TRUE(std::equal(encoded.begin(), encoded.begin() + 6, input.begin()));
  EXPECT_TRUE(std::equal(encoded.begin() + 8, encoded.end(), input.begin() + 8));
}

TEST(RecordDecoder, FuzzRandomAndMutatedRecords) {
  std::mt19937_64 random(0x6a616d6a6574);
  std::size_t counts[kDecodeStatusCount] = {};
  for (int i = 0; i < 100000; ++i) {
    std::vector<uint8_t> input;
    const int kind = i % 4;
    if (kind == 0) {
      // Random bytes, half of them behind a valid magic and plausible length.
      input.resize(random() % (JJ_RECORD_MAX_BYTES + 16));
      for (uint8_t& byte : input) byte = static_cast<uint8_t>(random());
      if (input.size() >= JJ_RECORD_HEADER_BYTES && random() % 2 == 0) {
        jj_record_header header{JJ_RECORD_MAGIC,
                                static_cast<uint16_t>(input.size() - JJ_RECORD_HEADER_BYTES), 0};
        std::memcpy(input.data(), &header, sizeof header);
      }
    } else {
      OwnedContext owned(jamjet::sdk_test::RandomContext(random));
      jamjet_record record;
      if (jamjet_record_encode(&owned.View(), &record) != JAMJET_OK) continue;
      std::span<const uint8_t> bytes = RecordBytes(record);
      input.assign(bytes.begin(), bytes.end());
      for (int mutations = 1 + kind; mutations > 0; --mutations) Mutate(random, input);
      // Keep the header's length in step with the body half of the time, so that the
      // mutations reach the field checks instead of stopping at the length check.
      if (input.size() >= JJ_RECORD_HEADER_BYTES && random() % 2 == 0) {
        uint16_t payload_bytes = static_cast<uint16_t>(input.size() - JJ_RECORD_HEADER_BYTES);
        std::memcpy(input.data() + 4, &payload_bytes, sizeof payload_bytes);
      }
    }
    input.shrink_to_fit();  // so that ASan flags any read past the end
    auto result = DecodeRecord(input);
    ++counts[static_cast<std::size_t>(result.status)];
    if (result.ok()) {
      ExpectCanonical(input, result.context);
      if (HasFailure()) FAIL() << "iteration " << i;
    }
  }
  for (std::size_t status = 0; status < kDecodeStatusCount; ++status) {
    EXPECT_GT(counts[status], 0u) << "no input decoded as "
                                  << DecodeStatusName(static_cast<DecodeStatus>(status));
  }
}

}  // namespace
