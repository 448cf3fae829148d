// The registry header, its mapping, and thread slot claims and releases.
#include <gtest/gtest.h>

#include <barrier>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "jamjet/jamjet.h"
#include "tests/unit/sdk/sdk_test_util.h"

namespace {

using jamjet::sdk_test::CurrentTid;
using jamjet::sdk_test::FindThreadSlot;
using jamjet::sdk_test::MapsLineAt;
using jamjet::sdk_test::RegistrySlots;

// Returns the registry, creating it through a scope if no earlier test did.
const jj_registry_header* EnsureRegistry() {
  jamjet_scope scope;
  jamjet_user_context user{"registry-test", nullptr, nullptr, 0};
  EXPECT_EQ(jamjet_scope_enter(&scope, &user), JAMJET_OK);
  EXPECT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
  return jamjet_registry();
}

TEST(Registry, HeaderFields) {
  const jj_registry_header* header = EnsureRegistry();
  ASSERT_NE(header, nullptr);
  EXPECT_EQ(header->magic, JJ_REGISTRY_MAGIC);
  EXPECT_EQ(std::memcmp(&header->magic, "GRJJ", 4), 0);
  EXPECT_EQ(header->version, JJ_REGISTRY_VERSION);
  EXPECT_EQ(header->pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(header->slot_count, JJ_REGISTRY_SLOT_COUNT);
  EXPECT_EQ(header->slots_offset, JJ_REGISTRY_SLOTS_OFFSET);
  EXPECT_EQ(header->process_sequence % 2, 0u);
}

TEST(Registry, MappedAtFixedAddress) {
  const jj_registry_header* header = EnsureRegistry();
  ASSERT_EQ(reinterpret_cast<uintptr_t>(header), JJ_REGISTRY_FIXED_ADDRESS);
  const std::string line = MapsLineAt(header);
  ASSERT_FALSE(line.empty()) << "no mapping starts at the registry address";
  EXPECT_EQ(line.rfind("3a5a00000000-", 0), 0u) << line;
  EXPECT_NE(line.find("rw-s"), std::string::npos) << line;
  EXPECT_NE(line.find("/memfd:jamjet-registry"), std::string::npos) << line;
  char end[32];
  std::snprintf(end, sizeof end, "-%llx ",
                static_cast<unsigned long long>(JJ_REGISTRY_FIXED_ADDRESS + JJ_REGISTRY_BYTES));
  EXPECT_NE(line.find(end), std::string::npos) << line;
}

TEST(Registry, SixtyFourThreadsDistinctSlots) {
  const jj_registry_header* header = EnsureRegistry();
  constexpr int kThreads = 64;
  std::vector<jj_thread_slot*> slots(kThreads);
  std::vector<bool> record_seen(kThreads);
  std::barrier all_entered(kThreads + 1);
  std::barrier checked(kThreads + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string user_id = "thread-" + std::to_string(i);
      jamjet_user_context user{user_id.c_str(), nullptr, nullptr, 0};
      jamjet_scope scope;
      EXPECT_EQ(jamjet_scope_enter(&scope, &user), JAMJET_OK);
      slots[i] = FindThreadSlot(header, CurrentTid());
      record_seen[i] =
          slots[i] != nullptr && slots[i]->record == reinterpret_cast<uintptr_t>(&scope.record);
      all_entered.arrive_and_wait();
      checked.arrive_and_wait();
      // Even threads leave their scope; odd ones exit with it open.
      if (i % 2 == 0) {
        EXPECT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
      }
    });
  }
  all_entered.arrive_and_wait();
  std::set<jj_thread_slot*> distinct;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_NE(slots[i], nullptr) << "thread " << i << " has no slot";
    EXPECT_TRUE(record_seen[i]) << "thread " << i;
    distinct.insert(slots[i]);
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads));
  checked.arrive_and_wait();
  for (std::thread& thread : threads) thread.join();

  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(slots[i]->tid, 0u) << "thread " << i << " kept its slot after exit";
    EXPECT_EQ(slots[i]->record, 0u) << "thread " << i << " left a record after exit";
  }
}

TEST(Registry, ThreadExitingWithOpenScopeReleasesSlot) {
  const jj_registry_header* header = EnsureRegistry();
  jj_thread_slot* slot = nullptr;
  uintptr_t record = 0;
  std::thread thread([&] {
    jamjet_user_context user{"exits-inside", nullptr, nullptr, 0};
    jamjet_scope outer, inner;
    ASSERT_EQ(jamjet_scope_enter(&outer, &user), JAMJET_OK);
    ASSERT_EQ(jamjet_scope_enter(&inner, &user), JAMJET_OK);
    slot = FindThreadSlot(header, CurrentTid());
    if (slot != nullptr) record = slot->record;
  });
  thread.join();
  ASSERT_NE(slot, nullptr);
  EXPECT_NE(record, 0u);
  EXPECT_EQ(slot->tid, 0u);
  EXPECT_EQ(slot->record, 0u);
}

TEST(Registry, StaleSlotWithSameTidIsReused) {
  jj_registry_header* header = const_cast<jj_registry_header*>(EnsureRegistry());
  jj_thread_slot* reused = nullptr;
  jj_thread_slot* stale = nullptr;
  std::thread thread([&] {
    const uint32_t tid = CurrentTid();
    jj_thread_slot* slots = RegistrySlots(header);
    // Pretend a dead thread with this tid left probe slot 3 behind, with probes 0..2 free.
    stale = &slots[(tid + 3) % JJ_REGISTRY_SLOT_COUNT];
    if (stale->tid != 0) return;
    stale->tid = tid;
    stale->record = 0xdead0000;
    jamjet_scope scope;
    jamjet_user_context user{"stale", nullptr, nullptr, 0};
    EXPECT_EQ(jamjet_scope_enter(&scope, &user), JAMJET_OK);
    reused = FindThreadSlot(header, tid);
    EXPECT_EQ(jamjet_scope_leave(&scope), JAMJET_OK);
  });
  thread.join();
  ASSERT_NE(stale, nullptr);
  EXPECT_EQ(reused, stale);
  EXPECT_EQ(stale->tid, 0u);
}

TEST(Registry, SlotOverflowKeepsScopesWorking) {
  jj_registry_header* header = const_cast<jj_registry_header*>(EnsureRegistry());
  const uint64_t overflows_before = header->slot_overflows;
  bool probes_were_free = true;
  std::thread thread([&] {
    const uint32_t tid = CurrentTid();
    jj_thread_slot* slots = RegistrySlots(header);
    // Occupy every probe slot of this thread with ids of other, imaginary threads.
    for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
      jj_thread_slot& slot = slots[(tid + i) % JJ_REGISTRY_SLOT_COUNT];
      if (slot.tid != 0) probes_were_free = false;
      slot.tid = 0x7fff0000 + i;
    }
    jamjet_scope outer, inner;
    jamjet_user_context user{"overflow", nullptr, nullptr, 0};
    EXPECT_EQ(jamjet_scope_enter(&outer, &user), JAMJET_OK);
    EXPECT_EQ(jamjet_scope_enter(&inner, &user), JAMJET_OK);
    EXPECT_EQ(FindThreadSlot(header, tid), nullptr);
    EXPECT_EQ(jamjet_scope_leave(&outer), JAMJET_ERR_SCOPE_MISMATCH);
    EXPECT_EQ(jamjet_scope_leave(&inner), JAMJET_OK);
    EXPECT_EQ(jamjet_scope_leave(&outer), JAMJET_OK);
    for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
      slots[(tid + i) % JJ_REGISTRY_SLOT_COUNT].tid = 0;
    }
  });
  thread.join();
  ASSERT_TRUE(probes_were_free);
  EXPECT_EQ(header->slot_overflows, overflows_before + 1);
}

}  // namespace
