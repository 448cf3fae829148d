// Incremental HTTP/1.x message parsing of one direction of one captured TLS connection, built on
// the http-parser library (2.9).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/http/body_buffer.h"
#include "agent/http/message.h"
#include "agent/http/message_start.h"

struct http_parser;

namespace jamjet::http {

struct ParserLimits {
  // Decoded body bytes kept per message. Encoded bytes buffered for decoding are capped at the
  // same number.
  size_t max_body_bytes = 8 << 20;
  // Bytes of request target, reason phrase, header fields and trailer fields per message, with
  // 4 bytes counted per field for its separators.
  // NOTE: http-parser 2.9 has its own limit of 80 KiB per header block (HTTP_MAX_HEADER_SIZE in
  // http_parser.h), so larger values have no effect.
  size_t max_header_bytes = 64 << 10;
};

struct ParserStats {
  uint64_t messages = 0;          // messages appended with complete=true
  uint64_t partial_messages = 0;  // messages appended with complete=false
  uint64_t parse_errors = 0;      // http-parser errors and header size overflows
  uint64_t unsynced_bytes_skipped = 0;
  uint64_t gaps = 0;  // MarkGap calls
  uint64_t decode_errors = 0;
  uint64_t truncated_bodies = 0;
  // Connections that left HTTP/1.x: an HTTP/2 preface, a 101 response or a CONNECT tunnel.
  uint64_t protocol_switches = 0;
  uint64_t ignored_bytes = 0;  // bytes fed after a protocol switch
};

// Parses the messages of one direction of one connection: the requests a client writes or the
// responses it reads. Starts unsynchronised and begins parsing only at a Feed whose data starts
// with a request line or status line, because the agent may attach in the middle of a
// connection. Not thread-safe.
class MessageParser {
 public:
  explicit MessageParser(Direction direction, ParserLimits limits = {});
  ~MessageParser();
  MessageParser(MessageParser&&) noexcept;
  MessageParser& operator=(MessageParser&&) noexcept;

  // Parses the plaintext of one SSL_write or SSL_read call, taken at timestamp_ns
  // (CLOCK_MONOTONIC), and appends each message that completes to `out`.
  void Feed(std::string_view data, uint64_t timestamp_ns, std::vector<Message>& out);

  // Advances over `byte_count` bytes that were sent but not captured (the BPF program copies at
  // most a fixed amount per SSL call). Body framing stays right and the body is cut where the
  // uncaptured bytes start; uncaptured bytes inside headers end the message as a parse error.
  void FeedUncaptured(size_t byte_count, uint64_t timestamp_ns, std::vector<Message>& out);

  // Records the method of a request on this connection, once per request in order. A response
  // parser pairs responses with these, because a response to HEAD has no body and a 2xx
  // response to CONNECT starts a tunnel. Request parsers ignore the call.
  void PushRequestMethod(std::string_view method);

  // Reports that bytes of this direction were lost before the next Feed. Drops the message
  // under way without appending it and waits for the next message start.
  void MarkGap();

  // Ends the stream because the connection closed. A response delimited by the close completes
  // with complete=true, and any other message under way is appended with complete=false.
  // NOTE: timestamp_ns is not stored, because last_byte_ns is the time of the last byte fed.
  void Close(uint64_t timestamp_ns, std::vector<Message>& out);

  // Appends the message under way, if any, with complete=false, for agent shutdown. The rest of
  // that message is skipped if more bytes arrive.
  void TakePartial(std::vector<Message>& out);

  const ParserStats& stats() const { return stats_; }
  bool synced() const { return state_ == State::kSynced; }

 private:
  enum class State { kUnsynced, kSynced, kSwitched };
  enum class RequestKind { kHead, kConnect, kOther };

  friend struct ParserCallbacks;

  void FeedUnsynced(std::string_view data, uint64_t timestamp_ns, std::vector<Message>& out);
  void Parse(std::string_view data, uint64_t timestamp_ns, std::vector<Message>& out);
  // Continues after a message completed on the bytes that follow it.
  void AfterMessage(std::string_view rest);
  void FinishMessage(bool complete, std::vector<Message>& out);
  void DropMessage();
  void ResetHttpParser();
  void SwitchProtocol(size_t ignored_bytes);

  // Callback bodies. Each returns false to make http-parser stop with an error.
  void BeginMessage();
  bool AddHeaderBytes(size_t size);
  bool OnUrl(std::string_view bytes);
  bool OnStatus(std::string_view bytes);
  bool OnHeaderField(std::string_view bytes);
  bool OnHeaderValue(std::string_view bytes);
  int OnHeadersComplete();
  void OnBody(std::string_view bytes);
  void OnMessageComplete();

  Direction direction_;
  ParserLimits limits_;
  ParserStats stats_;
  State state_ = State::kUnsynced;
  std::unique_ptr<http_parser> parser_;

  // Bytes of an unsynchronised Feed that could still begin a message, and their timestamp.
  std::string sync_candidate_;
  uint64_t sync_candidate_ns_ = 0;

  uint64_t feed_ns_ = 0;  // timestamp of the Feed being parsed
  Message current_;
  bool feeding_uncaptured_ = false;  // OnBody skips, rather than stores, the bytes fed now
  bool in_message_ = false;
  bool message_done_ = false;
  bool switch_after_message_ = false;
  bool header_value_last_ = false;  // the last header callback was for a value
  size_t header_bytes_ = 0;
  BodyBuffer body_;
  // Response parsers only: the requests whose responses have not been parsed yet.
  std::deque<RequestKind> request_kinds_;
};

}  // namespace jamjet::http
