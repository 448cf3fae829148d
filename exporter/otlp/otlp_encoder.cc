#include "exporter/otlp/otlp_encoder.h"

#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <unordered_map>
#include <variant>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "spdlog/fmt/fmt.h"

namespace jamjet::otlp {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace collector = opentelemetry::proto::collector::trace::v1;

constexpr const char* kScopeName = "jamjet-agent";

void SetAnyValue(const AttributeValue& value, common::AnyValue& out) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    out.set_string_value(*text);
  } else if (const auto* integer = std::get_if<int64_t>(&value)) {
    out.set_int_value(*integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    out.set_double_value(*real);
  } else if (const auto* flag = std::get_if<bool>(&value)) {
    out.set_bool_value(*flag);
  } else {
    auto* array = out.mutable_array_value();
    for (const std::string& item : std::get<std::vector<std::string>>(value)) {
      array->add_values()->set_string_value(item);
    }
  }
}

template <typename KeyValues>
void AddAttributes(const Attributes& attributes, KeyValues& out) {
  for (const auto& [key, value] : attributes) {
    common::KeyValue* entry = out.Add();
    entry->set_key(key);
    SetAnyValue(value, *entry->mutable_value());
  }
}

std::string ReadMachineId() {
  std::ifstream file("/etc/machine-id");
  std::string id;
  std::getline(file, id);
  return id;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HexToBytes(std::string_view hex) {
  if (hex.size() % 2 != 0) return "";
  std::string bytes(hex.size() / 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    int high = HexDigit(hex[2 * i]);
    int low = HexDigit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return "";
    bytes[i] = static_cast<char>(high * 16 + low);
  }
  return bytes;
}

Resource CompleteHostResource(Resource host) {
  auto set_default = [&](const char* key, const std::string& value) {
    if (FindAttribute(host.attributes, key) == nullptr && !value.empty()) {
      host.attributes.emplace_back(key, value);
    }
  };
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0) set_default("host.name", name);
  set_default("host.id", ReadMachineId());
  set_default("os.type", "linux");
  set_default("telemetry.distro.name", "jamjet-agent");
  set_default("telemetry.distro.version", JAMJET_VERSION);
  return host;
}

std::string EncodeResource(const Attributes& process, const Resource& host) {
  Attributes merged = host.attributes;
  for (const auto& [key, value] : process) SetAttribute(merged, key, value);
  opentelemetry::proto::resource::v1::Resource resource;
  AddAttributes(merged, *resource.mutable_attributes());
  return resource.SerializeAsString();
}

std::string EncodeSpan(const Span& span) {
  trace::Span out;
  out.set_trace_id(HexToBytes(span.trace_id));
  out.set_span_id(HexToBytes(span.span_id));
  out.set_name(span.name);
  out.set_kind(trace::Span::SPAN_KIND_CLIENT);
  out.set_start_time_unix_nano(span.start_time_unix_nano);
  out.set_end_time_unix_nano(span.end_time_unix_nano);
  AddAttributes(span.attributes, *out.mutable_attributes());
  if (span.status_code != StatusCode::kUnset) {
    auto* status = out.mutable_status();
    status->set_code(span.status_code == StatusCode::kOk ? trace::Status::STATUS_CODE_OK
                                                         : trace::Status::STATUS_CODE_ERROR);
    status->set_message(span.status_message);
  }
  return out.SerializeAsString();
}

std::string BuildRequest(const std::vector<EncodedSpan>& spans) {
  collector::ExportTraceServiceRequest request;
  std::unordered_map<std::string_view, trace::ScopeSpans*> scopes;
  for (const EncodedSpan& span : spans) {
    trace::ScopeSpans*& scope = scopes[span.resource];
    if (scope == nullptr) {
      trace::ResourceSpans* resource_spans = request.add_resource_spans();
      resource_spans->mutable_resource()->ParseFromString(span.resource);
      scope = resource_spans->add_scope_spans();
      scope->mutable_scope()->set_name(kScopeName);
      scope->mutable_scope()->set_version(JAMJET_VERSION);
    }
    scope->add_spans()->ParseFromString(span.span);
  }
  return request.SerializeAsString();
}

absl::StatusOr<std::string> Gzip(std::string_view data) {
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  // windowBits 15 + 16 selects the gzip wrapper instead of zlib's.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) {
    return absl::InternalError(fmt::format("gzip compression failed: zlib error {}", result));
  }
  return out;
}

std::string PackRecord(const EncodedSpan& span) {
  uint32_t resource_size = static_cast<uint32_t>(span.resource.size());
  std::string payload(sizeof(resource_size), '\0');
  std::memcpy(payload.data(), &resource_size, sizeof(resource_size));
  payload += span.resource;
  payload += span.span;
  return payload;
}

bool UnpackRecord(std::string_view payload, EncodedSpan& span) {
  uint32_t resource_size = 0;
  if (payload.size() < sizeof(resource_size)) return false;
  std::memcpy(&resource_size, payload.data(), sizeof(resource_size));
  payload.remove_prefix(sizeof(resource_size));
  if (resource_size > payload.size()) return false;
  span.resource = std::string(payload.substr(0, resource_size));
  span.span = std::string(payload.substr(resource_size));
  return true;
}

}  // namespace jamjet::otlp
