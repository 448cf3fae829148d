// Helpers for feeding byte sequences to a MessageParser in tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "agent/http/parser.h"

namespace jamjet::http::test_util {

// Feeds each piece as one SSL call, the i-th at timestamp first_ns + i, and returns the messages
// that completed.
inline std::vector<Message> FeedPieces(MessageParser& parser,
                                       std::initializer_list<std::string_view> pieces,
                                       uint64_t first_ns = 1000) {
  std::vector<Message> out;
  uint64_t timestamp_ns = first_ns;
  for (std::string_view piece : pieces) parser.Feed(piece, timestamp_ns++, out);
  return out;
}

// Feeds `data` in one call at timestamp 1000, then closes the connection at 2000.
inline std::vector<Message> FeedAndClose(MessageParser& parser, std::string_view data) {
  std::vector<Message> out;
  parser.Feed(data, 1000, out);
  parser.Close(2000, out);
  return out;
}

inline std::string Concat(std::initializer_list<std::string_view> parts) {
  std::string result;
  for (std::string_view part : parts) result.append(part);
  return result;
}

// The message fields that must not depend on how the bytes were split, as one string for
// readable comparison failures.
inline std::string Describe(const Message& message) {
  std::string text =
      message.method + " " + message.target + " " + std::to_string(message.status_code) + "\n";
  for (const Header& header : message.headers) text += header.name + ": " + header.value + "\n";
  text += "body " + std::to_string(message.body.size()) + ": " + message.body + "\n";
  text += message.body_truncated ? "truncated " : "";
  text += message.decode_error.empty() ? "" : "decode_error: " + message.decode_error + " ";
  text += message.complete ? "complete" : "partial";
  return text;
}

inline std::vector<std::string> DescribeAll(const std::vector<Message>& messages) {
  std::vector<std::string> result;
  for (const Message& message : messages) result.push_back(Describe(message));
  return result;
}

}  // namespace jamjet::http::test_util
