// Encoding of spans into OTLP protobuf messages and request bodies.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/span.h"
#include "exporter/span_sink.h"

namespace jamjet::otlp {

// A span as the queues hold it: the serialized OTLP Resource of its process (already merged
// with the host resource) and the serialized OTLP Span.
struct EncodedSpan {
  std::string resource;
  std::string span;
  int64_t created_unix_s = 0;  // when the exporter took the span, for expiry
  uint64_t disk_sequence = 0;  // position in the disk queue; 0 when only in memory
  // When the span entered the memory queue; the epoch for spans read back from disk.
  std::chrono::steady_clock::time_point queued_at{};

  size_t size() const { return resource.size() + span.size(); }
};

// Fills in host.name, host.id (from /etc/machine-id), os.type and telemetry.distro.* where
// `host` lacks them.
Resource CompleteHostResource(Resource host);

// Returns the serialized Resource of a process: the host attributes, then the process
// attributes. A process attribute replaces a host attribute of the same key.
std::string EncodeResource(const Attributes& process, const Resource& host);

// Returns the serialized Span. Invalid hex ids are encoded as empty ids, which receivers reject.
std::string EncodeSpan(const Span& span);

// Returns the serialized ExportTraceServiceRequest with one ResourceSpans per distinct resource,
// in the order of first appearance.
std::string BuildRequest(const std::vector<EncodedSpan>& spans);

// Returns `data` compressed in the gzip format (RFC 1952).
absl::StatusOr<std::string> Gzip(std::string_view data);

// Serializes a queued span as a disk record payload and back.
std::string PackRecord(const EncodedSpan& span);
bool UnpackRecord(std::string_view payload, EncodedSpan& span);

// Converts lowercase or uppercase hex to bytes; returns "" when `hex` is not valid hex.
std::string HexToBytes(std::string_view hex);

}  // namespace jamjet::otlp
