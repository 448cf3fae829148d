// The process record in the registry header and its sequence lock.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "agent/user_context/record_decoder.h"
#include "jamjet/jamjet.h"

namespace {

using jamjet::user_context::DecodeRecord;

uint32_t Sequence(const jj_registry_header* header) {
  return __atomic_load_n(&header->process_sequence, __ATOMIC_ACQUIRE);
}

TEST(ProcessContext, SetAndClear) {
  jamjet_attr plan{};
  plan.key = "plan";
  plan.type = JAMJET_ATTR_STRING;
  plan.value.string = "team";
  jamjet_user_context ctx{"service-account-7", "ops@example.com", &plan, 1};
  ASSERT_EQ(jamjet_set_process_context(&ctx), JAMJET_OK);
  const jj_registry_header* header = jamjet_registry();
  ASSERT_NE(header, nullptr);
  const uint32_t after_set = Sequence(header);
  EXPECT_EQ(after_set % 2, 0u);
  EXPECT_EQ(header->process_record_set, 1u);
  auto decoded =
      DecodeRecord(std::span<const uint8_t>(header->process_record, JJ_RECORD_MAX_BYTES));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.context.user_id, "service-account-7");
  EXPECT_EQ(decoded.context.email, "ops@example.com");
  ASSERT_EQ(decoded.context.attrs.size(), 1u);

  ASSERT_EQ(jamjet_set_process_context(nullptr), JAMJET_OK);
  EXPECT_EQ(Sequence(header), after_set + 2);
  EXPECT_EQ(header->process_record_set, 0u);
  for (uint8_t byte : header->process_record) ASSERT_EQ(byte, 0);

  jamjet_user_context bad{"", nullptr, nullptr, 0};
  EXPECT_EQ(jamjet_set_process_context(&bad), JAMJET_ERR_MISSING_USER_ID);
  EXPECT_EQ(Sequence(header), after_set + 2) << "a rejected context must not touch the record";
}

TEST(ProcessContext, ShorterRecordLeavesNoTail) {
  const std::string long_id(JJ_USER_ID_MAX_BYTES, 'x');
  jamjet_user_context long_ctx{long_id.c_str(), nullptr, nullptr, 0};
  jamjet_user_context short_ctx{"s", nullptr, nullptr, 0};
  ASSERT_EQ(jamjet_set_process_context(&long_ctx), JAMJET_OK);
  ASSERT_EQ(jamjet_set_process_context(&short_ctx), JAMJET_OK);
  const jj_registry_header* header = jamjet_registry();
  const std::size_t used = JJ_RECORD_HEADER_BYTES + 2 + 1 + 2 + 1;
  for (std::size_t i = used; i < JJ_RECORD_MAX_BYTES; ++i) {
    ASSERT_EQ(header->process_record[i], 0) << "byte " << i;
  }
  ASSERT_EQ(jamjet_set_process_context(nullptr), JAMJET_OK);
}

// Readers that follow the sequence-lock rule never see a torn record while writers race.
TEST(ProcessContext, ConcurrentWritersAndSeqlockReader) {
  jamjet_user_context first{"first-user", nullptr, nullptr, 0};
  ASSERT_EQ(jamjet_set_process_context(&first), JAMJET_OK);
  const jj_registry_header* header = jamjet_registry();
  std::atomic<bool> stop{false};
  std::atomic<int> consistent_reads{0};
  std::atomic<int> torn_reads{0};

  std::thread reader([&] {
    uint8_t copy[JJ_RECORD_MAX_BYTES];
    while (!stop.load()) {
      uint32_t before = Sequence(header);
      if (before % 2 != 0) continue;
      std::memcpy(copy, header->process_record, sizeof copy);
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if (Sequence(header) != before) continue;
      auto decoded = DecodeRecord(copy);
      if (decoded.ok() && (decoded.context.user_id.rfind("writer-", 0) == 0 ||
                           decoded.context.user_id == "first-user")) {
        ++consistent_reads;
      } else {
        ++torn_reads;
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([w] {
      const std::string user_id = "writer-" + std::string(40 + w * 60, static_cast<char>('a' + w));
      jamjet_user_context ctx{user_id.c_str(), nullptr, nullptr, 0};
      for (int i = 0; i < 20000; ++i) jamjet_set_process_context(&ctx);
    });
  }
  for (std::thread& writer : writers) writer.join();
  stop = true;
  reader.join();
  EXPECT_EQ(torn_reads.load(), 0);
  EXPECT_GT(consistent_reads.load(), 0);
  EXPECT_EQ(Sequence(header) % 2, 0u);
  ASSERT_EQ(jamjet_set_process_context(nullptr), JAMJET_OK);
}

}  // namespace
