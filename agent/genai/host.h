// Parsing of the HTTP Host header into server.address and server.port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jamjet::genai {

struct HostPort {
  std::string address;           // host name or IP address, IPv6 without brackets
  std::optional<uint16_t> port;  // empty when the header has an invalid port
};

// Parses a Host header value: "name", "name:port", "[IPv6]" or "[IPv6]:port". A missing or empty
// port gives `default_port`. Returns nullopt when the value has no host.
std::optional<HostPort> ParseHost(std::string_view value, uint16_t default_port);

}  // namespace jamjet::genai
