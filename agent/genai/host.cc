#include "agent/genai/host.h"

#include <charconv>

namespace jamjet::genai {
namespace {

std::string_view StripWhitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Parses the text after the colon. An empty port means the scheme's default (RFC 3986, 3.2.3).
std::optional<uint16_t> ParsePort(std::string_view text, uint16_t default_port) {
  if (text.empty()) return default_port;
  uint32_t port = 0;
  const char* end = text.data() + text.size();
  auto [parsed_end, error] = std::from_chars(text.data(), end, port);
  if (error != std::errc() || parsed_end != end || port == 0 || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

}  // namespace

std::optional<HostPort> ParseHost(std::string_view value, uint16_t default_port) {
  value = StripWhitespace(value);
  if (value.empty()) return std::nullopt;

  if (value.front() == '[') {
    size_t close = value.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    std::string_view rest = value.substr(close + 1);
    HostPort result{std::string(value.substr(1, close - 1)), default_port};
    if (!rest.empty()) {
      result.port = rest.front() == ':' ? ParsePort(rest.substr(1), default_port) : std::nullopt;
    }
    return result;
  }

  size_t colon = value.find(':');
  if (colon == 0) return std::nullopt;
  // A bare IPv6 address has several colons and no port.
  if (colon == std::string_view::npos || value.find(':', colon + 1) != std::string_view::npos) {
    return HostPort{std::string(value), default_port};
  }
  return HostPort{std::string(value.substr(0, colon)),
                  ParsePort(value.substr(colon + 1), default_port)};
}

}  // namespace jamjet::genai
