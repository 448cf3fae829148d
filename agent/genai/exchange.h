// One HTTP request and its response on a TLS connection, with who made it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/http/message.h"
#include "agent/user_context/record_decoder.h"

namespace jamjet::genai {

struct ConnectionInfo {
  uint32_t pid = 0;
  uint32_t tid = 0;              // thread that wrote the request's first byte
  std::string executable_name;  // the process's comm
  std::optional<std::string> peer_address;  // from the connection's socket, when known
  std::optional<uint16_t> peer_port;
};

// The user context that the BPF program copied from the process's registry when the request's
// first byte was written. Decoding happens later, because the record may be hostile.
struct CapturedUserContext {
  uint32_t source = 0;  // enum jj_context_source
  uint32_t status = 0;  // enum jj_context_status
  std::string record;   // raw record bytes
};

enum class UserSource { kNone, kScope, kProcess };

// The user context decoded from the captured record, when it was valid.
struct ResolvedUser {
  UserSource source = UserSource::kNone;
  std::optional<user_context::UserContext> context;
};

struct Exchange {
  http::Message request;
  // Missing when the connection closed or the agent stopped before any response byte.
  std::optional<http::Message> response;
  ConnectionInfo connection;
  // Missing when the process has no registry.
  std::optional<CapturedUserContext> user_context;
  // Filled by the agent from user_context before span building.
  ResolvedUser user;
  // Offset that turns CLOCK_MONOTONIC times in the messages into Unix epoch times.
  int64_t monotonic_to_unix_ns = 0;
};

}  // namespace jamjet::genai
