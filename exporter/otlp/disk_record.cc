#include "exporter/otlp/disk_record.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include <cstring>

#include "spdlog/fmt/fmt.h"

namespace jamjet::otlp {
namespace {

template <typename T>
void Put(std::string& out, size_t offset, T value) {
  std::memcpy(out.data() + offset, &value, sizeof(value));
}

template <typename T>
T Get(std::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(value));
  return value;
}

uint32_t Checksum(std::string_view header_fields, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(header_fields.data()),
              static_cast<uInt>(header_fields.size()));
  crc =
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(crc);
}

// Bytes 4..24 of the header: length, sequence and creation time.
std::string HeaderFields(const RecordHeader& header) {
  std::string fields(20, '\0');
  Put(fields, 0, header.payload_size);
  Put(fields, 4, header.sequence);
  Put(fields, 12, header.created_unix_s);
  return fields;
}

}  // namespace

std::string EncodeRecord(uint64_t sequence, int64_t created_unix_s, std::string_view payload) {
  RecordHeader header;
  header.payload_size = static_cast<uint32_t>(payload.size());
  header.sequence = sequence;
  header.created_unix_s = created_unix_s;
  std::string fields = HeaderFields(header);
  std::string record(kRecordHeaderSize, '\0');
  Put(record, 0, kRecordMagic);
  std::memcpy(record.data() + 4, fields.data(), fields.size());
  Put(record, 24, Checksum(fields, payload));
  record.append(payload);
  return record;
}

std::optional<RecordHeader> DecodeRecordHeader(std::string_view bytes) {
  if (bytes.size() < kRecordHeaderSize) return std::nullopt;
  if (Get<uint32_t>(bytes, 0) != kRecordMagic) return std::nullopt;
  RecordHeader header;
  header.payload_size = Get<uint32_t>(bytes, 4);
  header.sequence = Get<uint64_t>(bytes, 8);
  header.created_unix_s = Get<int64_t>(bytes, 16);
  header.crc = Get<uint32_t>(bytes, 24);
  if (header.payload_size > kMaxRecordPayload) return std::nullopt;
  return header;
}

bool RecordChecksumMatches(const RecordHeader& header, std::string_view payload) {
  return payload.size() == header.payload_size &&
         Checksum(HeaderFields(header), payload) == header.crc;
}

std::optional<size_t> FindNextValidRecord(std::string_view data, size_t from) {
  const char magic[4] = {'J', 'J', 'Q', '1'};
  for (size_t offset = data.find(std::string_view(magic, 4), from); offset != data.npos;
       offset = data.find(std::string_view(magic, 4), offset + 1)) {
    std::optional<RecordHeader> header = DecodeRecordHeader(data.substr(offset));
    if (!header) continue;
    if (offset + kRecordHeaderSize + header->payload_size > data.size()) continue;
    std::string_view payload = data.substr(offset + kRecordHeaderSize, header->payload_size);
    if (RecordChecksumMatches(*header, payload)) return offset;
  }
  return std::nullopt;
}

std::string ReadFileRange(int fd, uint64_t offset, size_t size) {
  std::string data(size, '\0');
  ssize_t got = pread(fd, data.data(), size, static_cast<off_t>(offset));
  data.resize(got < 0 ? 0 : static_cast<size_t>(got));
  return data;
}

absl::Status ErrnoStatus(const std::string& operation, const std::string& path) {
  return absl::InternalError(
      fmt::format("{} {} failed: {}", operation, path, std::strerror(errno)));
}

void WriteCursorFile(int fd, uint64_t sequence) {
  char bytes[12];
  std::memcpy(bytes, &sequence, 8);
  uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes), 8));
  std::memcpy(bytes + 8, &crc, 4);
  // A failed cursor write only means that some sent spans are sent again after a restart.
  (void)!pwrite(fd, bytes, sizeof(bytes), 0);
}

uint64_t ReadCursorFile(int fd) {
  char bytes[12];
  if (pread(fd, bytes, sizeof(bytes), 0) != sizeof(bytes)) return 0;
  uint64_t sequence;
  uint32_t crc;
  std::memcpy(&sequence, bytes, 8);
  std::memcpy(&crc, bytes + 8, 4);
  return crc == crc32(0L, reinterpret_cast<const Bytef*>(bytes), 8) ? sequence : 0;
}

}  // namespace jamjet::otlp
