// A forked child gets its own registry; the parent's stays as it was.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <string>
#include <thread>

#include "jamjet/jamjet.h"
#include "tests/unit/sdk/sdk_test_util.h"

namespace {

using jamjet::sdk_test::CurrentTid;
using jamjet::sdk_test::FindThreadSlot;
using jamjet::sdk_test::MapsInode;
using jamjet::sdk_test::MapsLineAt;
using jamjet::sdk_test::RegistrySlots;

// Exit codes of the child, one per failed check.
enum ChildFailure {
  kChildOk = 0,
  kSameAddressLost = 10,
  kWrongPid,
  kSameMemfd,
  kNoMemfdName,
  kNoOwnSlot,
  kWrongInheritedRecord,
  kForeignSlotsLeft,
  kLeaveFailed,
  kNewScopeFailed,
};

struct ForkState {
  const jj_registry_header* header;
  std::string parent_inode;
  const jamjet_record* scope_record;
};

// Runs in the child. Returns a ChildFailure.
int CheckChild(const ForkState& state, jamjet_scope& scope) {
  const jj_registry_header* header = jamjet_registry();
  if (header != state.header) return kSameAddressLost;
  if (header->pid != static_cast<uint32_t>(getpid())) return kWrongPid;
  const std::string line = MapsLineAt(header);
  if (line.find("/memfd:jamjet-registry") == std::string::npos) return kNoMemfdName;
  if (MapsInode(line) == state.parent_inode) return kSameMemfd;
  const jj_thread_slot* own = FindThreadSlot(header, CurrentTid());
  if (own == nullptr) return kNoOwnSlot;
  if (own->record != reinterpret_cast<uintptr_t>(state.scope_record)) return kWrongInheritedRecord;
  const jj_thread_slot* slots = RegistrySlots(header);
  for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_COUNT; ++i) {
    if (&slots[i] != own && (slots[i].tid != 0 || slots[i].record != 0)) return kForeignSlotsLeft;
  }
  // The child writes its own registry freely: the parent checks that none of it shows there.
  jamjet_scope child_scope;
  jamjet_user_context child_user{"child", nullptr, nullptr, 0};
  if (jamjet_scope_enter(&child_scope, &child_user) != JAMJET_OK) return kNewScopeFailed;
  if (jamjet_set_process_context(&child_user) != JAMJET_OK) return kNewScopeFailed;
  if (jamjet_scope_leave(&child_scope) != JAMJET_OK) return kLeaveFailed;
  if (jamjet_scope_leave(&scope) != JAMJET_OK) return kLeaveFailed;
  if (own->record != 0) return kLeaveFailed;
  return kChildOk;
}

TEST(Fork, ChildGetsOwnRegistry) {
  jamjet_scope scope;
  jamjet_user_context user{"parent-user", nullptr, nullptr, 0};
  ASSERT_EQ(jamjet_scope_enter(&scope, &user), JAMJET_OK);
  ASSERT_EQ(jamjet_set_process_context(nullptr), JAMJET_OK);
  const jj_registry_header* header = jamjet_registry();
  ASSERT_NE(header, nullptr);

  // A second thread with an open scope, whose slot the child must free.
  std::atomic<uint32_t> other_tid{0};
  std::atomic<bool> release{false};
  std::thread other([&] {
    jamjet_scope other_scope;
    jamjet_user_context other_user{"other", nullptr, nullptr, 0};
    EXPECT_EQ(jamjet_scope_enter(&other_scope, &other_user), JAMJET_OK);
    other_tid = CurrentTid();
    while (!release.load()) std::this_thread::yield();
    EXPECT_EQ(jamjet_scope_leave(&other_scope), JAMJET_OK);
  });
  while (other_tid.load() == 0) std::this_thread::yield();

  ForkState state{header, MapsInode(MapsLineAt(header)), &scope.record};
  ASSERT_FALSE(state.parent_inode.empty());
  const uint32_t sequence_before = header->process_sequence;
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) _exit(CheckChild(state, scope));

  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  release = true;
  other.join();
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), kChildOk);

  // The parent's registry is untouched by the child.
  EXPECT_EQ(header->pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(MapsInode(MapsLineAt(header)), state.parent_inode);
  EXPECT_EQ(header->process_sequence, sequence_before);
  EXPECT_EQ(header->process_record_set, 0u);
  EXPECT_EQ(FindThreadSlot(header, static_cast<uint32_t>(child)), nullptr);
  const jj_thread_slot* own = FindThreadSlot(header, CurrentTid());
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->record, reinterpret_cast<uintptr_t>(&scope.record));
  ASSERT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
}

TEST(Fork, ChildOfThreadWithoutRecord) {
  jamjet_scope scope;
  jamjet_user_context user{"u", nullptr, nullptr, 0};
  ASSERT_EQ(jamjet_scope_enter(&scope, &user), JAMJET_OK);
  ASSERT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    const jj_registry_header* header = jamjet_registry();
    const jj_thread_slot* own = FindThreadSlot(header, CurrentTid());
    _exit(header->pid == static_cast<uint32_t>(getpid()) && own != nullptr && own->record == 0 ? 0
                                                                                               : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
}

}  // namespace
