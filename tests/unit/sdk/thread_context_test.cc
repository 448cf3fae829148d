// Scopes and record swaps, checked through the registry slot that the BPF program reads: the
// calling thread's slot points at its innermost record.
#include <gtest/gtest.h>

#include <thread>

#include "jamjet/jamjet.h"
#include "tests/unit/sdk/sdk_test_util.h"

namespace {

using jamjet::sdk_test::CurrentTid;
using jamjet::sdk_test::FindThreadSlot;

// Returns the record that the BPF program would read for the calling thread.
const void* SlotRecord() {
  const jj_registry_header* header = jamjet_registry();
  if (header == nullptr) return nullptr;
  const jj_thread_slot* slot = FindThreadSlot(header, CurrentTid());
  if (slot == nullptr) return nullptr;
  return reinterpret_cast<const void*>(static_cast<uintptr_t>(slot->record));
}

jamjet_user_context User(const char* user_id) { return {user_id, nullptr, nullptr, 0}; }

TEST(ThreadContext, EnterAndLeave) {
  jamjet_scope scope;
  jamjet_user_context user = User("user-1");
  ASSERT_EQ(jamjet_scope_enter(&scope, &user), JAMJET_OK);
  ASSERT_NE(jamjet_registry(), nullptr);
  EXPECT_EQ(SlotRecord(), &scope.record);
  ASSERT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
  EXPECT_EQ(SlotRecord(), nullptr);
}

TEST(ThreadContext, ScopesNest) {
  jamjet_scope outer, middle, inner;
  jamjet_user_context a = User("a"), b = User("b"), c = User("c");
  ASSERT_EQ(jamjet_scope_enter(&outer, &a), JAMJET_OK);
  ASSERT_EQ(jamjet_scope_enter(&middle, &b), JAMJET_OK);
  ASSERT_EQ(jamjet_scope_enter(&inner, &c), JAMJET_OK);
  EXPECT_EQ(SlotRecord(), &inner.record);
  ASSERT_EQ(jamjet_scope_leave(&inner), JAMJET_OK);
  EXPECT_EQ(SlotRecord(), &middle.record);
  ASSERT_EQ(jamjet_scope_leave(&middle), JAMJET_OK);
  EXPECT_EQ(SlotRecord(), &outer.record);
  ASSERT_EQ(jamjet_scope_leave(&outer), JAMJET_OK);
  EXPECT_EQ(SlotRecord(), nullptr);
}

TEST(ThreadContext, LeaveOutOfOrderChangesNothing) {
  jamjet_scope outer, inner;
  jamjet_user_context a = User("a"), b = User("b");
  ASSERT_EQ(jamjet_scope_enter(&outer, &a), JAMJET_OK);
  ASSERT_EQ(jamjet_scope_enter(&inner, &b), JAMJET_OK);
  EXPECT_EQ(jamjet_scope_leave(&outer), JAMJET_ERR_SCOPE_MISMATCH);
  EXPECT_EQ(std::string(jamjet_last_error()).rfind("the scope is not the innermost", 0), 0u);
  EXPECT_EQ(SlotRecord(), &inner.record);
  ASSERT_EQ(jamjet_scope_leave(&inner), JAMJET_OK);
  ASSERT_EQ(jamjet_scope_leave(&outer), JAMJET_OK);
  // Leaving twice is out of order too.
  EXPECT_EQ(jamjet_scope_leave(&outer), JAMJET_ERR_SCOPE_MISMATCH);
  EXPECT_EQ(SlotRecord(), nullptr);
}

TEST(ThreadContext, EnterTwiceIsMismatch) {
  jamjet_scope scope;
  jamjet_user_context a = User("a"), b = User("b");
  ASSERT_EQ(jamjet_scope_enter(&scope, &a), JAMJET_OK);
  EXPECT_EQ(jamjet_scope_enter(&scope, &b), JAMJET_ERR_SCOPE_MISMATCH);
  EXPECT_EQ(SlotRecord(), &scope.record);
  EXPECT_EQ(scope.record.bytes[JJ_RECORD_HEADER_BYTES + 2], 'a') << "the record was overwritten";
  ASSERT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
  EXPECT_EQ(SlotRecord(), nullptr);
}

TEST(ThreadContext, InvalidEnterKeepsCurrentRecord) {
  jamjet_scope outer, rejected;
  jamjet_user_context a = User("a"), bad = User("");
  ASSERT_EQ(jamjet_scope_enter(&outer, &a), JAMJET_OK);
  EXPECT_EQ(jamjet_scope_enter(&rejected, &bad), JAMJET_ERR_MISSING_USER_ID);
  EXPECT_EQ(SlotRecord(), &outer.record);
  ASSERT_EQ(jamjet_scope_leave(&outer), JAMJET_OK);
}

TEST(ThreadContext, LeaveOnOtherThreadIsMismatch) {
  jamjet_scope scope;
  jamjet_user_context a = User("a");
  ASSERT_EQ(jamjet_scope_enter(&scope, &a), JAMJET_OK);
  jamjet_status other_status = JAMJET_OK;
  std::thread other([&] { other_status = jamjet_scope_leave(&scope); });
  other.join();
  EXPECT_EQ(other_status, JAMJET_ERR_SCOPE_MISMATCH);
  EXPECT_EQ(SlotRecord(), &scope.record);
  ASSERT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
}

TEST(ThreadContext, SwapRecord) {
  jamjet_record first, second;
  jamjet_user_context a = User("a"), b = User("b");
  ASSERT_EQ(jamjet_record_encode(&a, &first), JAMJET_OK);
  ASSERT_EQ(jamjet_record_encode(&b, &second), JAMJET_OK);
  EXPECT_EQ(jamjet_thread_swap_record(&first), nullptr);
  EXPECT_EQ(SlotRecord(), &first);
  EXPECT_EQ(jamjet_thread_swap_record(&second), &first);
  EXPECT_EQ(SlotRecord(), &second);
  EXPECT_EQ(jamjet_thread_swap_record(nullptr), &second);
  EXPECT_EQ(SlotRecord(), nullptr);
}

TEST(ThreadContext, SwapRejectsBadMagic) {
  jamjet_record good, garbage{};
  jamjet_user_context a = User("a");
  ASSERT_EQ(jamjet_record_encode(&a, &good), JAMJET_OK);
  EXPECT_EQ(jamjet_thread_swap_record(&good), nullptr);
  EXPECT_EQ(jamjet_thread_swap_record(&garbage), &good);
  EXPECT_EQ(SlotRecord(), nullptr) << "a record without magic must not be installed";
  EXPECT_NE(std::string(jamjet_last_error()).find("no record magic"), std::string::npos);
  EXPECT_EQ(jamjet_thread_swap_record(nullptr), nullptr);
}

TEST(ThreadContext, SwapAndScopeInterleave) {
  jamjet_scope scope;
  jamjet_record task;
  jamjet_user_context a = User("a"), b = User("b");
  ASSERT_EQ(jamjet_record_encode(&b, &task), JAMJET_OK);
  ASSERT_EQ(jamjet_scope_enter(&scope, &a), JAMJET_OK);
  const jamjet_record* saved = jamjet_thread_swap_record(&task);
  EXPECT_EQ(saved, &scope.record);
  EXPECT_EQ(jamjet_scope_leave(&scope), JAMJET_ERR_SCOPE_MISMATCH);
  EXPECT_EQ(jamjet_thread_swap_record(saved), &task);
  EXPECT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
}

TEST(ThreadContext, SwapNullWithoutSlotCreatesNothing) {
  // A new thread that only clears never claims a slot.
  uint32_t tid = 0;
  const jamjet_record* previous = reinterpret_cast<const jamjet_record*>(1);
  std::thread clearer([&] {
    tid = CurrentTid();
    previous = jamjet_thread_swap_record(nullptr);
    const jj_registry_header* header = jamjet_registry();
    if (header != nullptr && FindThreadSlot(header, tid) != nullptr) tid = 0;
  });
  clearer.join();
  EXPECT_EQ(previous, nullptr);
  EXPECT_NE(tid, 0u) << "the clearing thread claimed a slot";
}

}  // namespace
