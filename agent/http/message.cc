#include "agent/http/message.h"

#include <algorithm>
#include <cctype>

namespace jamjet::http {

std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name) {
  for (const Header& header : headers) {
    if (header.name.size() != name.size()) continue;
    bool equal = std::equal(name.begin(), name.end(), header.name.begin(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) ==
             std::tolower(static_cast<unsigned char>(b));
    });
    if (equal) return std::string_view(header.value);
  }
  return std::nullopt;
}

}  // namespace jamjet::http
