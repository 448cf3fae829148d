#include "agent/genai/span_builder.h"

#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "agent/genai/detect.h"
#include "agent/genai/host.h"

namespace jamjet::genai {
namespace {

// The agent captures TLS traffic, so a Host header without a port means port 443.
constexpr uint16_t kDefaultTlsPort = 443;

struct Outcome {
  std::optional<std::string> error_type;  // set on failure only
  std::string message;
};

Outcome ClassifyOutcome(const std::optional<http::Message>& response, const ResponseInfo& info) {
  if (!response.has_value()) return {"response_incomplete", "no response received"};
  if (response->status_code >= 400) {
    std::string status = absl::StrCat(response->status_code);
    std::string type = info.error_type.value_or(status);
    std::string message = info.error_type.has_value() ? absl::StrCat("HTTP ", status, ": ", type)
                                                      : absl::StrCat("HTTP ", status);
    return {std::move(type), std::move(message)};
  }
  if (info.error_type.has_value()) {
    const char* where = info.streamed ? "stream error: " : "error response: ";
    return {info.error_type, absl::StrCat(where, *info.error_type)};
  }
  if (!response->complete) return {"response_incomplete", "response ended early"};
  return {};
}

uint64_t ToUnixNs(uint64_t monotonic_ns, int64_t monotonic_to_unix_ns) {
  int64_t unix_ns = static_cast<int64_t>(monotonic_ns) + monotonic_to_unix_ns;
  return unix_ns > 0 ? static_cast<uint64_t>(unix_ns) : 0;
}

void SetTimes(const Exchange& exchange, Span& span) {
  const http::Message& request = exchange.request;
  uint64_t end_ns = request.last_byte_ns;
  if (exchange.response.has_value() && exchange.response->last_byte_ns != 0) {
    end_ns = exchange.response->last_byte_ns;
  }
  span.start_time_unix_nano = ToUnixNs(request.first_byte_ns, exchange.monotonic_to_unix_ns);
  span.end_time_unix_nano = ToUnixNs(end_ns, exchange.monotonic_to_unix_ns);
  if (span.end_time_unix_nano < span.start_time_unix_nano) {
    span.end_time_unix_nano = span.start_time_unix_nano;
  }
}

void SetOptional(Attributes& attributes, std::string key, const std::optional<int64_t>& value) {
  if (value.has_value()) SetAttribute(attributes, std::move(key), *value);
}

void SetOptional(Attributes& attributes, std::string key, const std::optional<std::string>& value) {
  if (value.has_value()) SetAttribute(attributes, std::move(key), *value);
}

void AddUsage(const Usage& usage, Attributes& attributes) {
  SetOptional(attributes, "gen_ai.usage.input_tokens", usage.input_tokens);
  SetOptional(attributes, "gen_ai.usage.output_tokens", usage.output_tokens);
  SetOptional(attributes, "gen_ai.usage.cache_read.input_tokens", usage.cache_read_input_tokens);
  SetOptional(attributes, "gen_ai.usage.cache_creation.input_tokens",
              usage.cache_creation_input_tokens);
  SetOptional(attributes, "gen_ai.usage.reasoning.output_tokens", usage.reasoning_output_tokens);
}

// Time from the request's first byte to the first byte of the streamed response body.
void AddTimeToFirstChunk(const Exchange& exchange, Attributes& attributes) {
  uint64_t request_ns = exchange.request.first_byte_ns;
  uint64_t first_chunk_ns = exchange.response->first_body_byte_ns;
  if (first_chunk_ns == 0 || first_chunk_ns < request_ns) return;
  double seconds = static_cast<double>(first_chunk_ns - request_ns) / 1e9;
  SetAttribute(attributes, "gen_ai.response.time_to_first_chunk", seconds);
}

void AddResponse(const Exchange& exchange, const ResponseInfo& info, Attributes& attributes) {
  SetOptional(attributes, "gen_ai.response.id", info.id);
  SetOptional(attributes, "gen_ai.response.model", info.model);
  if (!info.finish_reasons.empty()) {
    SetAttribute(attributes, "gen_ai.response.finish_reasons", info.finish_reasons);
  }
  AddUsage(info.usage, attributes);
  if (info.streamed) AddTimeToFirstChunk(exchange, attributes);
  if (exchange.response->status_code > 0) {
    SetAttribute(attributes, "http.response.status_code",
                 static_cast<int64_t>(exchange.response->status_code));
  }
}

void AddServer(const http::Message& request, Attributes& attributes) {
  std::optional<std::string_view> host = http::FindHeader(request.headers, "host");
  if (!host.has_value()) return;
  std::optional<HostPort> server = ParseHost(*host, kDefaultTlsPort);
  if (!server.has_value()) return;
  SetAttribute(attributes, "server.address", std::move(server->address));
  if (server->port.has_value()) {
    SetAttribute(attributes, "server.port", static_cast<int64_t>(*server->port));
  }
}

void AddConnection(const ConnectionInfo& connection, Attributes& attributes) {
  SetOptional(attributes, "network.peer.address", connection.peer_address);
  if (connection.peer_port.has_value()) {
    SetAttribute(attributes, "network.peer.port", static_cast<int64_t>(*connection.peer_port));
  }
  // Process and thread id 0 belong to the kernel, so 0 means the id is unknown.
  if (connection.pid != 0) {
    SetAttribute(attributes, "process.pid", static_cast<int64_t>(connection.pid));
  }
  if (!connection.executable_name.empty()) {
    SetAttribute(attributes, "process.executable.name", connection.executable_name);
  }
  if (connection.tid != 0) {
    SetAttribute(attributes, "thread.id", static_cast<int64_t>(connection.tid));
  }
}

// Prices the call by the response model, which names the exact snapshot, and falls back to the
// request model.
void AddCost(ProviderId provider, const RequestInfo& request, const ResponseInfo& info,
             const PriceTable& prices, Attributes& attributes) {
  for (const std::optional<std::string>* model : {&info.model, &request.model}) {
    if (!model->has_value()) continue;
    const ModelPrice* price = prices.Find(provider, **model);
    if (price == nullptr) continue;
    if (std::optional<double> cost = ComputeCost(*price, info.usage)) {
      SetAttribute(attributes, "cost_usd", *cost);
    }
    return;
  }
}

void AddTruncation(const Exchange& exchange, Attributes& attributes) {
  if (exchange.request.body_truncated) {
    SetAttribute(attributes, "jamjet.http.request.body_truncated", true);
  }
  if (exchange.response.has_value() && exchange.response->body_truncated) {
    SetAttribute(attributes, "jamjet.http.response.body_truncated", true);
  }
}

// Sets the user attributes: the application's context when it stated one, else the end-user
// id in the request body. jamjet.user.source says which applied.
void AddUser(const ResolvedUser& user, const RequestInfo& request, Attributes& attributes) {
  if (user.context.has_value()) {
    const user_context::UserContext& context = *user.context;
    SetAttribute(attributes, "user_id", context.user_id);
    SetAttribute(attributes, "user.id", context.user_id);
    if (context.email.has_value()) {
      SetAttribute(attributes, "user_email", *context.email);
      SetAttribute(attributes, "user.email", *context.email);
    }
    for (const auto& [key, value] : context.attrs) {
      std::visit([&](const auto& typed) { SetAttribute(attributes, "user_attrs." + key, typed); },
                 value);
    }
    SetAttribute(attributes, "jamjet.user.source",
                 std::string(user.source == UserSource::kProcess ? "process" : "scope"));
    return;
  }
  if (request.end_user_id.has_value()) {
    SetAttribute(attributes, "user_id", *request.end_user_id);
    SetAttribute(attributes, "user.id", *request.end_user_id);
    SetAttribute(attributes, "jamjet.user.source", std::string("request_body"));
    SetAttribute(attributes, "jamjet.user.source_field", std::string(request.end_user_field));
    return;
  }
  SetAttribute(attributes, "jamjet.user.source", std::string("none"));
}

}  // namespace

std::optional<Span> BuildLlmSpan(const Exchange& exchange, const PriceTable& prices,
                                 IdSource& ids) {
  std::optional<DetectedCall> call = DetectLlmCall(exchange.request);
  if (!call.has_value()) return std::nullopt;
  const Provider& provider = *call->provider;
  const RequestInfo& request = call->request;

  ResponseInfo info;
  if (exchange.response.has_value()) {
    info = provider.ParseResponse(*exchange.response, request.stream);
  }
  Outcome outcome = ClassifyOutcome(exchange.response, info);

  Span span;
  span.name = request.model.has_value()
                  ? absl::StrCat(std::string(request.operation), " ", *request.model)
                  : std::string(request.operation);
  span.kind = SpanKind::kClient;
  span.trace_id = ids.NewTraceId();
  span.span_id = ids.NewSpanId();
  SetTimes(exchange, span);

  Attributes& attributes = span.attributes;
  SetAttribute(attributes, "gen_ai.provider.name", std::string(provider.Name()));
  SetAttribute(attributes, "gen_ai.operation.name", std::string(request.operation));
  SetOptional(attributes, "gen_ai.request.model", request.model);
  if (request.stream.has_value())
    SetAttribute(attributes, "gen_ai.request.stream", *request.stream);
  if (exchange.response.has_value()) AddResponse(exchange, info, attributes);
  SetOptional(attributes, "error.type", outcome.error_type);
  AddServer(exchange.request, attributes);
  AddConnection(exchange.connection, attributes);
  AddCost(provider.Id(), request, info, prices, attributes);
  AddTruncation(exchange, attributes);
  AddUser(exchange.user, request, attributes);

  if (outcome.error_type.has_value()) {
    span.status_code = StatusCode::kError;
    span.status_message = std::move(outcome.message);
  }
  return span;
}

}  // namespace jamjet::genai
