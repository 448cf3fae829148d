// Reassembles the plaintext of each TLS connection from data events, parses HTTP/1.x in
// both directions, and pairs each request with its response.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "agent/genai/exchange.h"
#include "agent/http/parser.h"
#include "bpf/ssl_trace.h"

namespace jamjet {

struct TrackerOptions {
  http::ParserLimits parser_limits;
  // Bytes copied per SSL call by the BPF program; a larger call was cut there.
  uint32_t max_call_bytes = JJ_CHUNK_BYTES * JJ_MAX_CHUNKS_PER_CALL;
  size_t max_connections = 16384;
  uint64_t idle_timeout_ns = 600'000'000'000ULL;  // 10 minutes
  // Added to CLOCK_MONOTONIC event times to get Unix epoch times.
  int64_t monotonic_to_unix_ns = 0;
};

struct TrackerStats {
  uint64_t data_events = 0;
  uint64_t bytes = 0;
  uint64_t exchanges = 0;
  uint64_t lost_event_gaps = 0;          // a call or chunk missing from the event stream
  uint64_t truncated_calls = 0;          // SSL calls larger than max_call_bytes
  uint64_t server_side_connections = 0;  // connections where the process sends HTTP responses
  uint64_t responses_without_request = 0;
  uint64_t evicted_connections = 0;
  uint64_t malformed_events = 0;
  uint64_t unmatched_contexts = 0;  // context events whose SSL_write data never arrived
};

class ConnectionTracker {
 public:
  using ExchangeHandler = std::function<void(genai::Exchange&&)>;

  ConnectionTracker(TrackerOptions options, ExchangeHandler handler);
  ~ConnectionTracker();

  // `size` is the ring-buffer record size; records shorter than their header claims are
  // counted as malformed.
  void OnData(const jj_data_event& event, size_t size);
  // Keeps the user context of an SSL_write until the data of that call arrives.
  void OnUserContext(const jj_context_event& event, size_t size);
  void OnClose(uint32_t pid, uint64_t ssl, uint64_t timestamp_ns);
  void OnProcessExit(uint32_t pid, uint64_t timestamp_ns);
  // Closes connections idle for longer than the idle timeout.
  void ExpireIdle(uint64_t now_ns);
  // Reports every request under way as an exchange with what is known (agent shutdown).
  void FlushAll(uint64_t now_ns);

  const TrackerStats& stats() const { return stats_; }
  http::ParserStats parser_stats() const;
  size_t connection_count() const { return connections_.size(); }

 private:
  struct Connection;
  struct DirectionState;
  using Key = std::pair<uint32_t, uint64_t>;  // pid, SSL pointer

  Connection& FindOrCreate(const jj_data_event& event);
  void FeedCall(Connection& connection, uint32_t direction, std::string_view data,
                uint64_t timestamp_ns, uint32_t tid);
  // Reports the oldest pending request of `connection` as an exchange without a response.
  void ReportWithoutResponse(Connection& connection);
  // Counts lost bytes in `direction` and resynchronises its parser.
  void HandleGap(Connection& connection, uint32_t direction);
  // Forgets the call under way after a loss, counting the loss once.
  static void DropCall(DirectionState& state, const jj_data_event& event);
  // Advances the parser of `direction` over bytes the BPF program did not copy.
  void FeedUncaptured(Connection& connection, uint32_t direction, uint64_t byte_count,
                      uint64_t timestamp_ns);
  std::optional<genai::CapturedUserContext> TakeContext(uint32_t tid, uint64_t call_start_ns);
  void PairResponses(Connection& connection, std::vector<http::Message>& responses);
  void CloseConnection(Connection& connection, uint64_t timestamp_ns, bool flush_only);
  void EvictOldest();

  TrackerOptions options_;
  ExchangeHandler handler_;
  std::map<Key, std::unique_ptr<Connection>> connections_;
  // Context of the SSL_write under way per thread id, with that call's start time.
  std::map<uint32_t, std::pair<uint64_t, genai::CapturedUserContext>> pending_contexts_;
  TrackerStats stats_;
  http::ParserStats retired_parser_stats_;
};

}  // namespace jamjet
