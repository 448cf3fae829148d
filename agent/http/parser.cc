#include "agent/http/parser.h"

#include <http_parser.h>

#include <algorithm>
#include <utility>

namespace jamjet::http {

// Forwards http-parser callbacks to the MessageParser stored in http_parser::data.
struct ParserCallbacks {
  static MessageParser& Self(http_parser* parser) {
    return *static_cast<MessageParser*>(parser->data);
  }
  static int OnMessageBegin(http_parser* parser) {
    Self(parser).BeginMessage();
    return 0;
  }
  static int OnUrl(http_parser* parser, const char* at, size_t size) {
    return Self(parser).OnUrl({at, size}) ? 0 : 1;
  }
  static int OnStatus(http_parser* parser, const char* at, size_t size) {
    return Self(parser).OnStatus({at, size}) ? 0 : 1;
  }
  static int OnHeaderField(http_parser* parser, const char* at, size_t size) {
    return Self(parser).OnHeaderField({at, size}) ? 0 : 1;
  }
  static int OnHeaderValue(http_parser* parser, const char* at, size_t size) {
    return Self(parser).OnHeaderValue({at, size}) ? 0 : 1;
  }
  static int OnHeadersComplete(http_parser* parser) { return Self(parser).OnHeadersComplete(); }
  static int OnBody(http_parser* parser, const char* at, size_t size) {
    Self(parser).OnBody({at, size});
    return 0;
  }
  static int OnMessageComplete(http_parser* parser) {
    Self(parser).OnMessageComplete();
    return 0;
  }

  static http_parser_settings MakeSettings() {
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_message_begin = &OnMessageBegin;
    settings.on_url = &OnUrl;
    settings.on_status = &OnStatus;
    settings.on_header_field = &OnHeaderField;
    settings.on_header_value = &OnHeaderValue;
    settings.on_headers_complete = &OnHeadersComplete;
    settings.on_body = &OnBody;
    settings.on_message_complete = &OnMessageComplete;
    return settings;
  }
};

namespace {

const http_parser_settings kSettings = ParserCallbacks::MakeSettings();

// Requests whose responses have not been parsed yet. Beyond this many, the oldest are
// forgotten so that a connection whose responses are never parsed cannot grow the queue.
constexpr size_t kMaxPendingRequests = 1024;

}  // namespace

MessageParser::MessageParser(Direction direction, ParserLimits limits)
    : direction_(direction),
      limits_(limits),
      parser_(std::make_unique<http_parser>()),
      body_(limits.max_body_bytes) {
  ResetHttpParser();
}

MessageParser::~MessageParser() = default;
MessageParser::MessageParser(MessageParser&&) noexcept = default;
MessageParser& MessageParser::operator=(MessageParser&&) noexcept = default;

void MessageParser::FeedUncaptured(size_t byte_count, uint64_t timestamp_ns,
                                   std::vector<Message>& out) {
  // Zero bytes keep http_parser's framing; OnBody skips them instead of storing them.
  constexpr size_t kPieceBytes = 64 * 1024;
  static const std::string kZeros(kPieceBytes, '\0');
  feeding_uncaptured_ = true;
  while (byte_count > 0) {
    size_t piece = std::min(byte_count, kPieceBytes);
    Feed(std::string_view(kZeros.data(), piece), timestamp_ns, out);
    byte_count -= piece;
  }
  feeding_uncaptured_ = false;
}

void MessageParser::Feed(std::string_view data, uint64_t timestamp_ns, std::vector<Message>& out) {
  if (data.empty()) return;
  switch (state_) {
    case State::kSwitched:
      stats_.ignored_bytes += data.size();
      return;
    case State::kSynced:
      Parse(data, timestamp_ns, out);
      return;
    case State::kUnsynced:
      FeedUnsynced(data, timestamp_ns, out);
      return;
  }
}

void MessageParser::FeedUnsynced(std::string_view data, uint64_t timestamp_ns,
                                 std::vector<Message>& out) {
  if (!sync_candidate_.empty()) {
    // The previous Feed ended with bytes that could begin a message, so judge them with this data.
    std::string candidate = std::exchange(sync_candidate_, {});
    size_t combined_size = candidate.size() + data.size();
    std::string probe = candidate;
    probe.append(data.substr(0, limits_.max_header_bytes));
    MessageStart start = MatchMessageStart(direction_, probe);
    if (start == MessageStart::kPrefix && combined_size <= limits_.max_header_bytes) {
      sync_candidate_ = std::move(probe);
      return;
    }
    if (start == MessageStart::kHttp2Preface) return SwitchProtocol(combined_size);
    if (start == MessageStart::kMatch) {
      state_ = State::kSynced;
      Parse(candidate, sync_candidate_ns_, out);
      return Feed(data, timestamp_ns, out);
    }
    stats_.unsynced_bytes_skipped += candidate.size();
  }

  switch (MatchMessageStart(direction_, data.substr(0, limits_.max_header_bytes))) {
    case MessageStart::kMatch:
      state_ = State::kSynced;
      return Parse(data, timestamp_ns, out);
    case MessageStart::kHttp2Preface:
      return SwitchProtocol(data.size());
    case MessageStart::kPrefix:
      if (data.size() <= limits_.max_header_bytes) {
        sync_candidate_.assign(data);
        sync_candidate_ns_ = timestamp_ns;
        return;
      }
      break;
    case MessageStart::kNoMatch:
      break;
  }
  stats_.unsynced_bytes_skipped += data.size();
}

void MessageParser::Parse(std::string_view data, uint64_t timestamp_ns, std::vector<Message>& out) {
  feed_ns_ = timestamp_ns;
  if (in_message_) current_.last_byte_ns = timestamp_ns;
  while (!data.empty() && state_ == State::kSynced) {
    parser_->data = this;
    size_t parsed = http_parser_execute(parser_.get(), &kSettings, data.data(), data.size());
    data.remove_prefix(std::min(parsed, data.size()));
    http_errno error = HTTP_PARSER_ERRNO(parser_.get());
    if (error == HPE_PAUSED && message_done_) {
      FinishMessage(true, out);
      AfterMessage(data);
      continue;
    }
    // Without an error, http-parser consumes all bytes, because every message end pauses it.
    // Stopping early anyway is handled like an error so that the loop always advances.
    if (error == HPE_OK && data.empty()) return;
    stats_.parse_errors++;
    stats_.unsynced_bytes_skipped += data.size();
    DropMessage();
    return;
  }
}

void MessageParser::AfterMessage(std::string_view rest) {
  bool request_upgrade = direction_ == Direction::kRequest && parser_->upgrade;
  if (switch_after_message_) {
    SwitchProtocol(rest.size());
  } else if (request_upgrade) {
    // The server may accept or refuse the upgrade, so the request stream is resynchronised at
    // the next Feed that starts with a request line.
    state_ = State::kUnsynced;
    stats_.unsynced_bytes_skipped += rest.size();
  }
  ResetHttpParser();
}

void MessageParser::FinishMessage(bool complete, std::vector<Message>& out) {
  current_.complete = complete;
  body_.Finish(complete, current_);
  if (complete) {
    stats_.messages++;
  } else {
    stats_.partial_messages++;
  }
  if (!current_.decode_error.empty()) stats_.decode_errors++;
  if (current_.body_truncated) stats_.truncated_bodies++;
  out.push_back(std::move(current_));
  current_ = Message{};
  in_message_ = false;
  message_done_ = false;
}

void MessageParser::DropMessage() {
  current_ = Message{};
  in_message_ = false;
  body_.Reset("");
  ResetHttpParser();
  state_ = State::kUnsynced;
}

void MessageParser::ResetHttpParser() {
  http_parser_init(parser_.get(), direction_ == Direction::kRequest ? HTTP_REQUEST : HTTP_RESPONSE);
  // RFC 9112 section 6.3: Transfer-Encoding overrides Content-Length when both are sent.
  parser_->allow_chunked_length = 1;
  message_done_ = false;
  switch_after_message_ = false;
}

void MessageParser::SwitchProtocol(size_t ignored_bytes) {
  state_ = State::kSwitched;
  stats_.protocol_switches++;
  stats_.ignored_bytes += ignored_bytes;
}

void MessageParser::PushRequestMethod(std::string_view method) {
  if (direction_ == Direction::kRequest) return;
  RequestKind kind = method == "HEAD"      ? RequestKind::kHead
                     : method == "CONNECT" ? RequestKind::kConnect
                                           : RequestKind::kOther;
  request_kinds_.push_back(kind);
  if (request_kinds_.size() > kMaxPendingRequests) request_kinds_.pop_front();
}

void MessageParser::MarkGap() {
  stats_.gaps++;
  stats_.unsynced_bytes_skipped += sync_candidate_.size();
  sync_candidate_.clear();
  if (state_ == State::kSwitched) return;
  // NOTE: responses lost in the gap keep their entries in request_kinds_, so a later response
  // to HEAD can be paired with the wrong request.
  DropMessage();
}

void MessageParser::Close(uint64_t /*timestamp_ns*/, std::vector<Message>& out) {
  if (state_ == State::kSynced && in_message_) {
    // A zero-length execute signals the end of the stream to http-parser, which completes a
    // response whose body is delimited by the close.
    parser_->data = this;
    http_parser_execute(parser_.get(), &kSettings, nullptr, 0);
    FinishMessage(message_done_, out);
  }
  stats_.unsynced_bytes_skipped += sync_candidate_.size();
  sync_candidate_.clear();
  request_kinds_.clear();
  if (state_ != State::kSwitched) DropMessage();
}

void MessageParser::TakePartial(std::vector<Message>& out) {
  if (!in_message_) return;
  FinishMessage(false, out);
  DropMessage();
}

}  // namespace jamjet::http
