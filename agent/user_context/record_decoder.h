// Decoding of the user-context records that the JamJet SDK writes into a process's registry and
// the BPF program copies at SSL_write. The format and its limits are defined in
// sdk/include/jamjet/registry_layout.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace jamjet::user_context {

using AttributeValue = std::variant<std::string, double, bool>;

// The end user behind an LLM API call, as the application named them.
struct UserContext {
  std::string user_id;
  std::optional<std::string> email;
  // Attributes in the order the application gave them, keys unique.
  std::vector<std::pair<std::string, AttributeValue>> attrs;

  bool operator==(const UserContext&) const = default;
};

// Outcome of decoding a record. Every value but kOk names why a record was dropped, and the
// values are dense so that a caller can count drops in an array of kDecodeStatusCount.
enum class DecodeStatus : uint8_t {
  kOk,
  kBadMagic,       // the first 4 bytes are not JJ_RECORD_MAGIC
  kBadLength,      // a length exceeds its limit or runs past the payload, or bytes are left over
  kTruncated,      // the buffer ends before the header or the payload it announces
  kInvalidUtf8,    // a string is not valid UTF-8 or contains U+0000
  kInvalidKey,     // a key is empty, not [A-Za-z_][A-Za-z0-9_.-]*, or repeats an earlier key
  kTooManyAttrs,   // more than JJ_ATTR_MAX_COUNT attributes
  kBadType,        // an attribute type is not string, number or bool
  kInvalidValue,   // a number that is NaN or infinite, or a bool byte other than 0 or 1
  kMissingUserId,  // the user id is empty
};
inline constexpr std::size_t kDecodeStatusCount = 10;

// Returns a snake_case name for metrics labels and logs, such as "bad_magic".
std::string_view DecodeStatusName(DecodeStatus status);

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kOk;
  UserContext context;  // empty unless status is kOk

  bool ok() const { return status == DecodeStatus::kOk; }
};

// Decodes one record from the start of `bytes`. The buffer may be longer than the record, as
// when the BPF program copies a fixed JJ_RECORD_MAX_BYTES, and may hold anything: the decoder
// reads only inside it and rejects every record that the SDK could not have written.
DecodeResult DecodeRecord(std::span<const uint8_t> bytes);

}  // namespace jamjet::user_context
