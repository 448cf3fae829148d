#include "agent/user_context/record_decoder.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "sdk/include/jamjet/registry_layout.h"

namespace jamjet::user_context {
namespace {

static_assert(std::endian::native == std::endian::little,
              "records are little-endian and are read in host order");

// Reads the payload front to back. Every read checks the remaining length first, so no read
// leaves the payload.
class PayloadReader {
 public:
  explicit PayloadReader(std::span<const uint8_t> payload) : payload_(payload) {}

  bool ReadU8(uint8_t& value) {
    if (payload_.empty()) return false;
    value = payload_[0];
    payload_ = payload_.subspan(1);
    return true;
  }

  bool ReadU16(uint16_t& value) {
    if (payload_.size() < 2) return false;
    value = static_cast<uint16_t>(payload_[0] | (payload_[1] << 8));
    payload_ = payload_.subspan(2);
    return true;
  }

  bool ReadBytes(std::size_t count, std::span<const uint8_t>& bytes) {
    if (payload_.size() < count) return false;
    bytes = payload_.first(count);
    payload_ = payload_.subspan(count);
    return true;
  }

  bool empty() const { return payload_.empty(); }

 private:
  std::span<const uint8_t> payload_;
};

// Returns whether `text` is UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates,
// nothing above U+10FFFF) and free of U+0000, which the SDK's C strings cannot carry.
bool IsValidUtf8(std::span<const uint8_t> text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const uint8_t lead = text[i];
    std::size_t length;
    uint32_t code_point;
    uint32_t min_code_point;
    if (lead == 0) {
      return false;
    } else if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code_point = lead & 0x1f;
      min_code_point = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code_point = lead & 0x0f;
      min_code_point = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      code_point = lead & 0x07;
      min_code_point = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const uint8_t continuation = text[i + k];
      if ((continuation & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (continuation & 0x3f);
    }
    if (code_point < min_code_point || code_point > 0x10ffff) return false;
    if (code_point >= 0xd800 && code_point <= 0xdfff) return false;
    i += length;
  }
  return true;
}

bool IsKeyStart(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool IsKeyChar(uint8_t c) {
  return IsKeyStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool IsPlainName(std::span<const uint8_t> key) {
  if (key.empty() || !IsKeyStart(key[0])) return false;
  for (std::size_t i = 1; i < key.size(); ++i) {
    if (!IsKeyChar(key[i])) return false;
  }
  return true;
}

std::string ToString(std::span<const uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Reads a u16 length and that many bytes of UTF-8 of at most `max_bytes`.
DecodeStatus ReadString(PayloadReader& reader, std::size_t max_bytes, std::string& out) {
  uint16_t length;
  std::span<const uint8_t> bytes;
  if (!reader.ReadU16(length) || length > max_bytes || !reader.ReadBytes(length, bytes)) {
    return DecodeStatus::kBadLength;
  }
  if (!IsValidUtf8(bytes)) return DecodeStatus::kInvalidUtf8;
  out = ToString(bytes);
  return DecodeStatus::kOk;
}

DecodeStatus ReadAttributeValue(PayloadReader& reader, AttributeValue& value) {
  uint8_t type;
  if (!reader.ReadU8(type)) return DecodeStatus::kBadLength;
  switch (type) {
    case JJ_ATTR_STRING: {
      std::string text;
      DecodeStatus status = ReadString(reader, JJ_ATTR_STRING_MAX_BYTES, text);
      if (status != DecodeStatus::kOk) return status;
      value = std::move(text);
      return DecodeStatus::kOk;
    }
    case JJ_ATTR_NUMBER: {
      std::span<const uint8_t> bytes;
      if (!reader.ReadBytes(sizeof(double), bytes)) return DecodeStatus::kBadLength;
      double number;
      std::memcpy(&number, bytes.data(), sizeof number);
      if (!std::isfinite(number)) return DecodeStatus::kInvalidValue;
      value = number;
      return DecodeStatus::kOk;
    }
    case JJ_ATTR_BOOL: {
      uint8_t byte;
      if (!reader.ReadU8(byte)) return DecodeStatus::kBadLength;
      if (byte > 1) return DecodeStatus::kInvalidValue;
      value = byte == 1;
      return DecodeStatus::kOk;
    }
    default:
      return DecodeStatus::kBadType;
  }
}

DecodeStatus ReadAttributes(PayloadReader& reader, UserContext& context) {
  uint8_t count;
  if (!reader.ReadU8(count)) return DecodeStatus::kBadLength;
  if (count > JJ_ATTR_MAX_COUNT) return DecodeStatus::kTooManyAttrs;
  context.attrs.reserve(count);
  for (uint8_t i = 0; i < count; ++i) {
    uint8_t key_length;
    std::span<const uint8_t> key_bytes;
    if (!reader.ReadU8(key_length)) return DecodeStatus::kBadLength;
    if (key_length > JJ_ATTR_KEY_MAX_BYTES || !reader.ReadBytes(key_length, key_bytes)) {
      return DecodeStatus::kBadLength;
    }
    if (!IsPlainName(key_bytes)) return DecodeStatus::kInvalidKey;
    std::string key = ToString(key_bytes);
    for (const auto& [earlier_key, unused] : context.attrs) {
      if (earlier_key == key) return DecodeStatus::kInvalidKey;
    }
    AttributeValue value;
    DecodeStatus status = ReadAttributeValue(reader, value);
    if (status != DecodeStatus::kOk) return status;
    context.attrs.emplace_back(std::move(key), std::move(value));
  }
  return DecodeStatus::kOk;
}

DecodeStatus DecodePayload(std::span<const uint8_t> payload, UserContext& context) {
  PayloadReader reader(payload);
  DecodeStatus status = ReadString(reader, JJ_USER_ID_MAX_BYTES, context.user_id);
  if (status != DecodeStatus::kOk) return status;
  if (context.user_id.empty()) return DecodeStatus::kMissingUserId;

  std::string email;
  status = ReadString(reader, JJ_EMAIL_MAX_BYTES, email);
  if (status != DecodeStatus::kOk) return status;
  // The format has no way to tell "no email" from an empty one, and the SDK writes both as 0.
  if (!email.empty()) context.email = std::move(email);

  status = ReadAttributes(reader, context);
  if (status != DecodeStatus::kOk) return status;
  return reader.empty() ? DecodeStatus::kOk : DecodeStatus::kBadLength;
}

}  // namespace

std::string_view DecodeStatusName(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kBadMagic:
      return "bad_magic";
    case DecodeStatus::kBadLength:
      return "bad_length";
    case DecodeStatus::kTruncated:
      return "truncated";
    case DecodeStatus::kInvalidUtf8:
      return "invalid_utf8";
    case DecodeStatus::kInvalidKey:
      return "invalid_key";
    case DecodeStatus::kTooManyAttrs:
      return "too_many_attrs";
    case DecodeStatus::kBadType:
      return "bad_type";
    case DecodeStatus::kInvalidValue:
      return "invalid_value";
    case DecodeStatus::kMissingUserId:
      return "missing_user_id";
  }
  return "unknown";
}

DecodeResult DecodeRecord(std::span<const uint8_t> bytes) {
  DecodeResult result;
  jj_record_header header;
  if (bytes.size() < sizeof header.magic) {
    result.status = DecodeStatus::kTruncated;
    return result;
  }
  std::memcpy(&header.magic, bytes.data(), sizeof header.magic);
  if (header.magic != JJ_RECORD_MAGIC) {
    result.status = DecodeStatus::kBadMagic;
    return result;
  }
  if (bytes.size() < sizeof header) {
    result.status = DecodeStatus::kTruncated;
    return result;
  }
  std::memcpy(&header, bytes.data(), sizeof header);
  if (header.payload_bytes > JJ_RECORD_MAX_BYTES - JJ_RECORD_HEADER_BYTES) {
    result.status = DecodeStatus::kBadLength;
    return result;
  }
  if (bytes.size() - sizeof header < header.payload_bytes) {
    result.status = DecodeStatus::kTruncated;
    return result;
  }
  // The reserved header field is not checked, so that a later SDK may use it.
  result.status = DecodePayload(bytes.subspan(sizeof header, header.payload_bytes), result.context);
  if (!result.ok()) result.context = UserContext();
  return result;
}

}  // namespace jamjet::user_context
