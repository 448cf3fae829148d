// Format of the disk queue's segment files: a sequence of checksummed records.
//
// Record layout, little-endian:
//   0  u32 magic "JJQ1"
//   4  u32 payload length
//   8  u64 sequence number (increases by one per record over the queue's life)
//  16  i64 creation time, Unix seconds
//  24  u32 CRC-32 (zlib) of bytes 4..24 and the payload
//  28  payload
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace jamjet::otlp {

inline constexpr size_t kRecordHeaderSize = 28;
inline constexpr uint32_t kRecordMagic = 0x3151'4A4A;  // "JJQ1" read as little-endian
inline constexpr uint32_t kMaxRecordPayload = 64 * 1024 * 1024;

struct RecordHeader {
  uint32_t payload_size = 0;
  uint64_t sequence = 0;
  int64_t created_unix_s = 0;
  uint32_t crc = 0;
};

// Returns the header and payload of one record, ready to be written with a single write(2).
std::string EncodeRecord(uint64_t sequence, int64_t created_unix_s, std::string_view payload);

// Parses a header; nullopt when the magic is wrong or the length is implausible.
std::optional<RecordHeader> DecodeRecordHeader(std::string_view bytes);

// Returns true when `payload` matches the header's checksum.
bool RecordChecksumMatches(const RecordHeader& header, std::string_view payload);

// Finds the first complete record with a valid checksum at or after `from` in `data` (a whole
// segment in memory). Returns its offset, or nullopt when none follows.
std::optional<size_t> FindNextValidRecord(std::string_view data, size_t from);

// Writes the acknowledged sequence and its CRC-32 at the start of the cursor file. A failed
// write is ignored: it only means that some sent spans are sent again after a restart.
void WriteCursorFile(int fd, uint64_t sequence);

// Returns the acknowledged sequence, or 0 when the cursor file is empty or damaged.
uint64_t ReadCursorFile(int fd);

// Returns up to `size` bytes of the file at `offset`; fewer at the end of the file or on error.
std::string ReadFileRange(int fd, uint64_t offset, size_t size);

// Returns an error "OPERATION PATH failed: strerror(errno)".
absl::Status ErrnoStatus(const std::string& operation, const std::string& path);

}  // namespace jamjet::otlp
