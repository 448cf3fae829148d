// Helpers for the SDK tests: registry lookups that follow the rules of
// sdk/include/jamjet/registry_layout.h, as the BPF program does.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

#include "jamjet/jamjet.h"

namespace jamjet::sdk_test {

inline jj_thread_slot* RegistrySlots(const jj_registry_header* header) {
  auto* base = reinterpret_cast<uint8_t*>(const_cast<jj_registry_header*>(header));
  return reinterpret_cast<jj_thread_slot*>(base + header->slots_offset);
}

// Returns the slot that the BPF program would read for `tid`, or nullptr when none carries it.
inline jj_thread_slot* FindThreadSlot(const jj_registry_header* header, uint32_t tid) {
  jj_thread_slot* slots = RegistrySlots(header);
  for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
    jj_thread_slot* slot = &slots[(tid + i) % header->slot_count];
    if (slot->tid == tid) return slot;
  }
  return nullptr;
}

inline uint32_t CurrentTid() { return static_cast<uint32_t>(gettid()); }

// Returns the /proc/self/maps line of the mapping that starts at `address`, or "" when none.
inline std::string MapsLineAt(const void* address) {
  std::ifstream maps("/proc/self/maps");
  std::ostringstream prefix;
  prefix << std::hex << reinterpret_cast<uintptr_t>(address) << "-";
  for (std::string line; std::getline(maps, line);) {
    if (line.rfind(prefix.str(), 0) == 0) return line;
  }
  return "";
}

// Returns the inode column of a /proc/PID/maps line.
inline std::string MapsInode(const std::string& line) {
  std::istringstream fields(line);
  std::string range, permissions, offset, device, inode;
  fields >> range >> permissions >> offset >> device >> inode;
  return inode;
}

// Returns the header and payload of an encoded record, without the unused tail.
inline std::span<const uint8_t> RecordBytes(const jamjet_record& record) {
  jj_record_header header;
  std::memcpy(&header, record.bytes, sizeof header);
  return std::span<const uint8_t>(record.bytes, JJ_RECORD_HEADER_BYTES + header.payload_bytes);
}

}  // namespace jamjet::sdk_test
