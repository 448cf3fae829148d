#include "agent/connection_tracker.h"

#include <arpa/inet.h>
#include <algorithm>
#include <cstddef>
#include <cstring>

namespace jamjet {
namespace {

constexpr size_t kRecentWritesKept = 64;
constexpr size_t kMaxPendingContexts = 65536;

bool StartsWithRequestLine(std::string_view data) {
  size_t i = 0;
  while (i < data.size() && i < 16 && data[i] >= 'A' && data[i] <= 'Z') ++i;
  return i > 0 && i < data.size() && data[i] == ' ';
}

std::optional<std::string> FormatPeer(const jj_peer& peer) {
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.family == AF_INET) {
    if (inet_ntop(AF_INET, peer.address, text, sizeof(text)) == nullptr) return std::nullopt;
  } else if (peer.family == AF_INET6) {
    if (inet_ntop(AF_INET6, peer.address, text, sizeof(text)) == nullptr) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return std::string(text);
}

void AddParserStats(http::ParserStats& total, const http::ParserStats& part) {
  total.messages += part.messages;
  total.partial_messages += part.partial_messages;
  total.parse_errors += part.parse_errors;
  total.unsynced_bytes_skipped += part.unsynced_bytes_skipped;
  total.gaps += part.gaps;
  total.decode_errors += part.decode_errors;
  total.truncated_bodies += part.truncated_bodies;
  total.protocol_switches += part.protocol_switches;
  total.ignored_bytes += part.ignored_bytes;
}

}  // namespace

// The bytes of one SSL call, collected from its chunks.
struct PartialCall {
  bool active = false;
  uint32_t call_bytes = 0;
  uint32_t captured_bytes = 0;
  uint64_t timestamp_ns = 0;
  uint32_t tid = 0;
  std::string data;
};

struct ConnectionTracker::DirectionState {
  bool offset_known = false;
  // A lost call was counted; its remaining chunks and the offset jump it causes are not.
  bool loss_counted = false;
  uint64_t dropped_call_start_ns = 0;
  uint64_t expected_offset = 0;
  PartialCall call;
};

struct PendingRequest {
  http::Message request;
  uint32_t tid = 0;
  std::optional<genai::CapturedUserContext> user_context;
};

// An SSL_write seen recently, so that a request can be matched to the call that wrote its
// first byte.
struct WriteCall {
  uint64_t timestamp_ns = 0;
  uint32_t tid = 0;
  std::optional<genai::CapturedUserContext> user_context;
};

struct ConnectionTracker::Connection {
  Connection(Key key, const http::ParserLimits& limits)
      : key(key),
        request_parser(http::Direction::kRequest, limits),
        response_parser(http::Direction::kResponse, limits) {}

  Key key;
  genai::ConnectionInfo info;
  http::MessageParser request_parser;
  http::MessageParser response_parser;
  ConnectionTracker::DirectionState directions[2];
  std::deque<PendingRequest> pending;
  std::deque<WriteCall> recent_writes;
  bool saw_request_start = false;
  bool server_side = false;
  uint64_t last_activity_ns = 0;
};

ConnectionTracker::ConnectionTracker(TrackerOptions options, ExchangeHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

ConnectionTracker::~ConnectionTracker() = default;

ConnectionTracker::Connection& ConnectionTracker::FindOrCreate(const jj_data_event& event) {
  Key key{event.header.pid, event.ssl};
  auto it = connections_.find(key);
  if (it != connections_.end()) return *it->second;
  if (connections_.size() >= options_.max_connections) EvictOldest();
  auto connection = std::make_unique<Connection>(key, options_.parser_limits);
  connection->info.pid = event.header.pid;
  connection->info.executable_name.assign(event.comm, strnlen(event.comm, sizeof(event.comm)));
  return *connections_.emplace(key, std::move(connection)).first->second;
}

void ConnectionTracker::OnData(const jj_data_event& event, size_t size) {
  if (size < offsetof(jj_data_event, data) || event.chunk_bytes > JJ_CHUNK_BYTES ||
      size < offsetof(jj_data_event, data) + event.chunk_bytes || event.direction > 1) {
    ++stats_.malformed_events;
    return;
  }
  ++stats_.data_events;
  stats_.bytes += event.chunk_bytes;
  Connection& connection = FindOrCreate(event);
  connection.last_activity_ns = event.header.timestamp_ns;
  if (connection.server_side) return;
  if (!connection.info.peer_address) {
    if (std::optional<std::string> address = FormatPeer(event.peer)) {
      connection.info.peer_address = std::move(address);
      connection.info.peer_port = event.peer.port;
    }
  }

  DirectionState& state = connection.directions[event.direction];
  std::string_view chunk(reinterpret_cast<const char*>(event.data), event.chunk_bytes);

  if (event.chunk_offset == 0) {
    bool lost =
        state.call.active || (state.offset_known && event.stream_offset != state.expected_offset);
    // Orphan chunks already counted the loss that also left the stream offset behind.
    if (lost && !state.loss_counted) HandleGap(connection, event.direction);
    state.loss_counted = false;
    state.offset_known = true;
    state.expected_offset = event.stream_offset + event.call_bytes;
    state.call = PartialCall{};
    state.call.active = true;
    state.call.call_bytes = event.call_bytes;
    state.call.captured_bytes = std::min(event.call_bytes, options_.max_call_bytes);
    // Writes are timed at the call's entry, when the first byte left the application.
    state.call.timestamp_ns =
        event.direction == JJ_DIRECTION_WRITE ? event.call_start_ns : event.header.timestamp_ns;
    state.call.tid = event.header.tid;
  } else if (!state.call.active || event.chunk_offset != state.call.data.size()) {
    // Later chunks of a call already counted as lost are dropped without counting again.
    if (!state.loss_counted || state.dropped_call_start_ns != event.call_start_ns) {
      HandleGap(connection, event.direction);
    }
    DropCall(state, event);
    return;
  }

  if (event.chunk_bytes == 0) {
    // The BPF program could not read this chunk of the call: its bytes are lost.
    HandleGap(connection, event.direction);
    DropCall(state, event);
    return;
  }
  bool last_chunk = event.chunk_offset + event.chunk_bytes >= state.call.captured_bytes;
  if (event.chunk_offset == 0 && last_chunk) {
    // The common case: a call in one event needs no copy.
    state.call.active = false;
    FeedCall(connection, event.direction, chunk, state.call.timestamp_ns, state.call.tid);
  } else {
    state.call.data.append(chunk);
    if (!last_chunk) return;
    state.call.active = false;
    std::string data = std::move(state.call.data);
    FeedCall(connection, event.direction, data, state.call.timestamp_ns, state.call.tid);
  }

  if (state.call.call_bytes > state.call.captured_bytes && !connection.server_side) {
    ++stats_.truncated_calls;
    FeedUncaptured(connection, event.direction, state.call.call_bytes - state.call.captured_bytes,
                   state.call.timestamp_ns);
  }
}

void ConnectionTracker::FeedUncaptured(Connection& connection, uint32_t direction,
                                       uint64_t byte_count, uint64_t timestamp_ns) {
  std::vector<http::Message> messages;
  if (direction == JJ_DIRECTION_WRITE) {
    connection.request_parser.FeedUncaptured(byte_count, timestamp_ns, messages);
    for (http::Message& request : messages) {
      connection.response_parser.PushRequestMethod(request.method);
      connection.pending.push_back({.request = std::move(request), .tid = connection.info.tid});
    }
    return;
  }
  connection.response_parser.FeedUncaptured(byte_count, timestamp_ns, messages);
  PairResponses(connection, messages);
}

void ConnectionTracker::DropCall(DirectionState& state, const jj_data_event& event) {
  state.loss_counted = true;
  state.dropped_call_start_ns = event.call_start_ns;
  if (event.chunk_offset == 0) {
    // The call's bytes are accounted for in the offset, so the next call follows on.
    state.offset_known = true;
    state.expected_offset = event.stream_offset + event.call_bytes;
  }
  state.call = PartialCall{};
}

void ConnectionTracker::HandleGap(Connection& connection, uint32_t direction) {
  ++stats_.lost_event_gaps;
  if (direction == JJ_DIRECTION_WRITE) {
    connection.request_parser.MarkGap();
    return;
  }
  connection.response_parser.MarkGap();
  // HTTP/1.1 servers respond in request order, so the lost bytes belong to the oldest unanswered request's
  // response. Report that request without a response, so later responses pair correctly.
  if (!connection.pending.empty()) ReportWithoutResponse(connection);
}

void ConnectionTracker::ReportWithoutResponse(Connection& connection) {
  genai::Exchange exchange;
  exchange.request = std::move(connection.pending.front().request);
  exchange.connection = connection.info;
  exchange.connection.tid = connection.pending.front().tid;
  exchange.user_context = std::move(connection.pending.front().user_context);
  exchange.monotonic_to_unix_ns = options_.monotonic_to_unix_ns;
  connection.pending.pop_front();
  ++stats_.exchanges;
  handler_(std::move(exchange));
}

void ConnectionTracker::FeedCall(Connection& connection, uint32_t direction, std::string_view data,
                                 uint64_t timestamp_ns, uint32_t tid) {
  std::vector<http::Message> messages;
  if (direction == JJ_DIRECTION_WRITE) {
    if (!connection.saw_request_start && data.substr(0, 5) == "HTTP/") {
      // This process sends responses on this connection: it is a server, not a client.
      connection.server_side = true;
      ++stats_.server_side_connections;
      return;
    }
    if (StartsWithRequestLine(data)) connection.saw_request_start = true;
    if (connection.recent_writes.empty() ||
        connection.recent_writes.back().timestamp_ns != timestamp_ns) {
      connection.recent_writes.push_back({timestamp_ns, tid, TakeContext(tid, timestamp_ns)});
      if (connection.recent_writes.size() > kRecentWritesKept) {
        connection.recent_writes.pop_front();
      }
    }

    connection.request_parser.Feed(data, timestamp_ns, messages);
    for (http::Message& request : messages) {
      PendingRequest pending{.request = std::move(request), .tid = tid};
      // The user is the one in effect when the request's first byte was written.
      for (const WriteCall& call : connection.recent_writes) {
        if (call.timestamp_ns != pending.request.first_byte_ns) continue;
        pending.tid = call.tid;
        pending.user_context = call.user_context;
      }
      connection.response_parser.PushRequestMethod(pending.request.method);
      connection.pending.push_back(std::move(pending));
    }
    return;
  }
  // Reads before the first request seen belong to a response the agent cannot pair.
  if (!connection.saw_request_start) return;
  connection.response_parser.Feed(data, timestamp_ns, messages);
  PairResponses(connection, messages);
}

void ConnectionTracker::PairResponses(Connection& connection,
                                      std::vector<http::Message>& responses) {
  for (http::Message& response : responses) {
    if (response.status_code >= 100 && response.status_code < 200 && response.status_code != 101) {
      continue;  // interim response; the final one follows
    }
    if (connection.pending.empty()) {
      ++stats_.responses_without_request;
      continue;
    }
    PendingRequest pending = std::move(connection.pending.front());
    connection.pending.pop_front();
    genai::Exchange exchange;
    exchange.request = std::move(pending.request);
    exchange.response = std::move(response);
    exchange.connection = connection.info;
    exchange.connection.tid = pending.tid;
    exchange.user_context = std::move(pending.user_context);
    exchange.monotonic_to_unix_ns = options_.monotonic_to_unix_ns;
    ++stats_.exchanges;
    handler_(std::move(exchange));
  }
}

void ConnectionTracker::CloseConnection(Connection& connection, uint64_t timestamp_ns,
                                        bool flush_only) {
  std::vector<http::Message> requests;
  std::vector<http::Message> responses;
  if (flush_only) {
    connection.request_parser.TakePartial(requests);
    connection.response_parser.TakePartial(responses);
  } else {
    connection.request_parser.Close(timestamp_ns, requests);
    connection.response_parser.Close(timestamp_ns, responses);
  }
  for (http::Message& request : requests) {
    PendingRequest pending{.request = std::move(request), .tid = connection.info.tid};
    for (const WriteCall& call : connection.recent_writes) {
      if (call.timestamp_ns != pending.request.first_byte_ns) continue;
      pending.tid = call.tid;
      pending.user_context = call.user_context;
    }
    connection.pending.push_back(std::move(pending));
  }
  PairResponses(connection, responses);
  // Requests that never got a response byte are reported with what is known.
  while (!connection.pending.empty()) ReportWithoutResponse(connection);
}

void ConnectionTracker::OnUserContext(const jj_context_event& event, size_t size) {
  if (size < sizeof(jj_context_event) || event.record_bytes > sizeof(event.record)) {
    ++stats_.malformed_events;
    return;
  }
  if (pending_contexts_.size() >= kMaxPendingContexts) {
    // Threads that exited right after a failed SSL_write leave entries behind; start over.
    stats_.unmatched_contexts += pending_contexts_.size();
    pending_contexts_.clear();
  }
  genai::CapturedUserContext context;
  context.source = event.source;
  context.status = event.status;
  context.record.assign(reinterpret_cast<const char*>(event.record), event.record_bytes);
  auto [it, inserted] =
      pending_contexts_.try_emplace(event.header.tid, event.call_start_ns, std::move(context));
  if (!inserted) {
    // The previous SSL_write of this thread moved no bytes, so no data event claimed it.
    ++stats_.unmatched_contexts;
    it->second = {event.call_start_ns, std::move(context)};
  }
}

std::optional<genai::CapturedUserContext> ConnectionTracker::TakeContext(uint32_t tid,
                                                                         uint64_t call_start_ns) {
  auto it = pending_contexts_.find(tid);
  if (it == pending_contexts_.end() || it->second.first != call_start_ns) return std::nullopt;
  std::optional<genai::CapturedUserContext> context = std::move(it->second.second);
  pending_contexts_.erase(it);
  return context;
}

void ConnectionTracker::OnClose(uint32_t pid, uint64_t ssl, uint64_t timestamp_ns) {
  auto it = connections_.find({pid, ssl});
  if (it == connections_.end()) return;
  CloseConnection(*it->second, timestamp_ns, /*flush_only=*/false);
  const http::ParserStats& requests = it->second->request_parser.stats();
  const http::ParserStats& responses = it->second->response_parser.stats();
  AddParserStats(retired_parser_stats_, requests);
  AddParserStats(retired_parser_stats_, responses);
  connections_.erase(it);
}

void ConnectionTracker::OnProcessExit(uint32_t pid, uint64_t timestamp_ns) {
  auto first = connections_.lower_bound({pid, 0});
  std::vector<uint64_t> ssl_pointers;
  for (auto it = first; it != connections_.end() && it->first.first == pid; ++it) {
    ssl_pointers.push_back(it->first.second);
  }
  for (uint64_t ssl : ssl_pointers) OnClose(pid, ssl, timestamp_ns);
}

void ConnectionTracker::ExpireIdle(uint64_t now_ns) {
  std::vector<Key> idle;
  for (const auto& [key, connection] : connections_) {
    if (now_ns > connection->last_activity_ns + options_.idle_timeout_ns) idle.push_back(key);
  }
  for (const Key& key : idle) OnClose(key.first, key.second, now_ns);
}

void ConnectionTracker::EvictOldest() {
  auto oldest =
      std::min_element(connections_.begin(), connections_.end(), [](const auto& a, const auto& b) {
        return a.second->last_activity_ns < b.second->last_activity_ns;
      });
  if (oldest == connections_.end()) return;
  ++stats_.evicted_connections;
  OnClose(oldest->first.first, oldest->first.second, oldest->second->last_activity_ns);
}

void ConnectionTracker::FlushAll(uint64_t now_ns) {
  for (auto& [key, connection] : connections_) {
    CloseConnection(*connection, now_ns, /*flush_only=*/true);
  }
}

http::ParserStats ConnectionTracker::parser_stats() const {
  http::ParserStats total = retired_parser_stats_;
  for (const auto& [key, connection] : connections_) {
    AddParserStats(total, connection->request_parser.stats());
    AddParserStats(total, connection->response_parser.stats());
  }
  return total;
}

}  // namespace jamjet
