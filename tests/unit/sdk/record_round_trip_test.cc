// Records encoded by the SDK and decoded by the agent's decoder come back unchanged.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "agent/user_context/record_decoder.h"
#include "jamjet/jamjet.h"
#include "tests/unit/sdk/random_context.h"
#include "tests/unit/sdk/sdk_test_util.h"

namespace {

using jamjet::sdk_test::OwnedContext;
using jamjet::sdk_test::RecordBytes;
using jamjet::user_context::DecodeRecord;
using jamjet::user_context::DecodeStatus;
using jamjet::user_context::UserContext;

TEST(RecordRoundTrip, TypicalContext) {
  UserContext context;
  context.user_id = "3f2b8c1e-7d4a-4e9b-9c1f-2a6d8e0b5c47";
  context.email = "ada@example.com";
  context.attrs = {{"plan", std::string("enterprise")}, {"seats", 42.0}, {"beta", true}};
  OwnedContext owned(context);
  jamjet_record record;
  ASSERT_EQ(jamjet_record_encode(&owned.View(), &record), JAMJET_OK) << jamjet_last_error();

  jj_record_header header;
  std::memcpy(&header, record.bytes, sizeof header);
  EXPECT_EQ(header.magic, JJ_RECORD_MAGIC);
  EXPECT_EQ(header.reserved, 0);
  // 2+36 user id, 2+15 email, 1 count, then (1+4 key, 1 type, 2+10), (1+5, 1, 8), (1+4, 1, 1).
  EXPECT_EQ(header.payload_bytes, 38 + 17 + 1 + 18 + 15 + 7);

  auto decoded = DecodeRecord(RecordBytes(record));
  ASSERT_EQ(decoded.status, DecodeStatus::kOk);
  EXPECT_EQ(decoded.context, context);
}

TEST(RecordRoundTrip, EmptyEmailDecodesAsNone) {
  jamjet_user_context ctx{"user-1", "", nullptr, 0};
  jamjet_record record;
  ASSERT_EQ(jamjet_record_encode(&ctx, &record), JAMJET_OK);
  auto decoded = DecodeRecord(RecordBytes(record));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.context.user_id, "user-1");
  EXPECT_FALSE(decoded.context.email.has_value());
  EXPECT_TRUE(decoded.context.attrs.empty());
}

TEST(RecordRoundTrip, NonzeroBoolIsTrue) {
  jamjet_attr attr{};
  attr.key = "beta";
  attr.type = JAMJET_ATTR_BOOL;
  attr.value.boolean = -7;
  jamjet_user_context ctx{"u", nullptr, &attr, 1};
  jamjet_record record;
  ASSERT_EQ(jamjet_record_encode(&ctx, &record), JAMJET_OK);
  auto decoded = DecodeRecord(RecordBytes(record));
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded.context.attrs.size(), 1u);
  EXPECT_EQ(decoded.context.attrs[0].second, jamjet::user_context::AttributeValue(true));
}

TEST(RecordRoundTrip, RandomContexts) {
  std::mt19937_64 random(20240611);
  int encoded = 0;
  int too_large = 0;
  for (int i = 0; i < 20000; ++i) {
    OwnedContext owned(jamjet::sdk_test::RandomContext(random));
    jamjet_record record;
    jamjet_status status = jamjet_record_encode(&owned.View(), &record);
    if (status == JAMJET_ERR_RECORD_TOO_LARGE) {
      ++too_large;
      continue;
    }
    ASSERT_EQ(status, JAMJET_OK) << jamjet_last_error();
    ++encoded;

    // Exactly the record, as a buffer that ASan guards on both sides.
    std::span<const uint8_t> bytes = RecordBytes(record);
    std::vector<uint8_t> exact(bytes.begin(), bytes.end());
    auto decoded = DecodeRecord(exact);
    ASSERT_EQ(decoded.status, DecodeStatus::kOk) << "iteration " << i;
    ASSERT_EQ(decoded.context, owned.context()) << "iteration " << i;

    // The fixed-size copy that the BPF program makes decodes the same.
    auto full = DecodeRecord(std::span<const uint8_t>(record.bytes, JJ_RECORD_MAX_BYTES));
    ASSERT_EQ(full.context, owned.context());

    // Any shorter buffer is truncated.
    if (!exact.empty()) {
      std::vector<uint8_t> shorter(exact.begin(), exact.end() - 1 - (i % exact.size()));
      EXPECT_EQ(DecodeRecord(shorter).status, DecodeStatus::kTruncated);
    }
  }
  EXPECT_GT(encoded, 10000);
  EXPECT_GT(too_large, 0);
}

}  // namespace
