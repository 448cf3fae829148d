// ASCII text helpers for header values and model ids.
#pragma once

#include <string>
#include <string_view>

namespace jamjet::genai {

// Returns `text` with ASCII letters lowercased. Debian's Abseil build has its own string_view
// type that std::string_view does not convert to, so absl::AsciiStrToLower does not take one.
inline std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

}  // namespace jamjet::genai
