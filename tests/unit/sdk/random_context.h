// Seeded random user contexts for round-trip and fuzz tests, with the storage that the C API's
// pointers refer to.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "agent/user_context/record_decoder.h"
#include "jamjet/jamjet.h"

namespace jamjet::sdk_test {

// A user context that owns its strings, and can be viewed as a jamjet_user_context.
class OwnedContext {
 public:
  explicit OwnedContext(const user_context::UserContext& context) : context_(context) {}

  // Returns a view whose pointers stay valid while this object lives and is unchanged.
  const jamjet_user_context& View() {
    attrs_.clear();
    for (const auto& [key, value] : context_.attrs) {
      jamjet_attr attr{};
      attr.key = key.c_str();
      if (const auto* text = std::get_if<std::string>(&value)) {
        attr.type = JAMJET_ATTR_STRING;
        attr.value.string = text->c_str();
      } else if (const auto* number = std::get_if<double>(&value)) {
        attr.type = JAMJET_ATTR_NUMBER;
        attr.value.number = *number;
      } else {
        attr.type = JAMJET_ATTR_BOOL;
        attr.value.boolean = std::get<bool>(value) ? 1 : 0;
      }
      attrs_.push_back(attr);
    }
    view_.user_id = context_.user_id.c_str();
    view_.email = context_.email ? context_.email->c_str() : nullptr;
    view_.attrs = attrs_.data();
    view_.attr_count = attrs_.size();
    return view_;
  }

  const user_context::UserContext& context() const { return context_; }

 private:
  user_context::UserContext context_;
  std::vector<jamjet_attr> attrs_;
  jamjet_user_context view_{};
};

// Appends valid UTF-8 of at most max_bytes bytes, mixing 1- to 4-byte sequences.
inline std::string RandomUtf8(std::mt19937_64& random, std::size_t max_bytes) {
  std::string text;
  const std::size_t target = std::uniform_int_distribution<std::size_t>(0, max_bytes)(random);
  while (text.size() < target) {
    uint32_t code_point;
    switch (random() % 6) {
      case 0:
        code_point = 0x80 + random() % (0x800 - 0x80);
        break;
      case 1:
        code_point = 0x800 + random() % (0xd800 - 0x800);
        break;
      case 2:
        code_point = 0xe000 + random() % (0x10000 - 0xe000);
        break;
      case 3:
        code_point = 0x10000 + random() % (0x110000 - 0x10000);
        break;
      default:
        code_point = 0x01 + random() % 0x7f;
        break;
    }
    std::string encoded;
    if (code_point < 0x80) {
      encoded += static_cast<char>(code_point);
    } else if (code_point < 0x800) {
      encoded += static_cast<char>(0xc0 | (code_point >> 6));
      encoded += static_cast<char>(0x80 | (code_point & 0x3f));
    } else if (code_point < 0x10000) {
      encoded += static_cast<char>(0xe0 | (code_point >> 12));
      encoded += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
      encoded += static_cast<char>(0x80 | (code_point & 0x3f));
    } else {
      encoded += static_cast<char>(0xf0 | (code_point >> 18));
      encoded += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
      encoded += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
      encoded += static_cast<char>(0x80 | (code_point & 0x3f));
    }
    if (text.size() + encoded.size() > max_bytes) break;
    text += encoded;
  }
  return text;
}

inline std::string RandomKey(std::mt19937_64& random, int index) {
  static const char kStart[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
  static const char kRest[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
  std::string key(1, kStart[random() % (sizeof kStart - 1)]);
  const std::size_t length = 1 + random() % JJ_ATTR_KEY_MAX_BYTES;
  while (key.size() < length) key += kRest[random() % (sizeof kRest - 1)];
  // A numbered suffix keeps keys unique, cut to the key limit.
  std::string suffix = "_" + std::to_string(index);
  if (key.size() + suffix.size() > JJ_ATTR_KEY_MAX_BYTES) {
    key.resize(JJ_ATTR_KEY_MAX_BYTES - suffix.size());
  }
  return key + suffix;
}

// Returns a context within every field limit. Its record may still exceed JJ_RECORD_MAX_BYTES.
inline user_context::UserContext RandomContext(std::mt19937_64& random) {
  user_context::UserContext context;
  do {
    context.user_id = RandomUtf8(random, JJ_USER_ID_MAX_BYTES);
  } while (context.user_id.empty());
  if (random() % 2 == 0) {
    std::string email = RandomUtf8(random, JJ_EMAIL_MAX_BYTES);
    if (!email.empty()) context.email = email;
  }
  const int attr_count = static_cast<int>(random() % (JJ_ATTR_MAX_COUNT + 1));
  for (int i = 0; i < attr_count; ++i) {
    user_context::AttributeValue value;
    switch (random() % 3) {
      case 0:
        value = RandomUtf8(random, random() % 4 == 0 ? JJ_ATTR_STRING_MAX_BYTES : 24);
        break;
      case 1: {
        double number;
        do {
          uint64_t bits = random();
          std::memcpy(&number, &bits, sizeof number);
        } while (!std::isfinite(number));
        value = random() % 2 == 0 ? number : static_cast<double>(random() % 1000);
        break;
      }
      default:
        value = random() % 2 == 0;
        break;
    }
    context.attrs.emplace_back(RandomKey(random, i), std::move(value));
  }
  return context;
}

}  // namespace jamjet::sdk_test
