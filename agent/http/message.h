// HTTP/1.x messages as the connection tracker hands them to provider parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jamjet::http {

struct Header {
  std::string name;  // as received; compare with FindHeader, which ignores case
  std::string value;
};
using Headers = std::vector<Header>;

// Returns the first header named `name` (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name);

struct Message {
  // Request line (requests only).
  std::string method;
  std::string target;  // origin-form path and query, as sent
  // Status line (responses only).
  int status_code = 0;

  Headers headers;
  // Body after transfer decoding (chunked) and content decoding (gzip, deflate, br).
  // Holds at most the configured cap; body_truncated says whether bytes were cut.
  std::string body;
  bool body_truncated = false;
  // Non-empty when the content-encoding could not be decoded; body is then empty.
  std::string decode_error;
  // False when the connection closed or the agent stopped before the message ended.
  bool complete = false;

  uint64_t first_byte_ns = 0;       // CLOCK_MONOTONIC time of the first byte
  uint64_t last_byte_ns = 0;        // CLOCK_MONOTONIC time of the last byte seen
  uint64_t first_body_byte_ns = 0;  // 0 when no body byte arrived
};

}  // namespace jamjet::http
