// Builders of synthetic BPF events for ConnectionTracker tests and benchmarks.
#pragma once

#include <arpa/inet.h>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/connection_tracker.h"
#include "bpf/ssl_trace.h"

namespace jamjet::testing {

// One ring-buffer record: the event and the record size the BPF program would report.
struct DataRecord {
  std::unique_ptr<jj_data_event> event;
  size_t size = 0;
};

// Makes the data events of SSL calls on one connection the way ssl_trace.bpf.c emits them:
// one event per JJ_CHUNK_BYTES (or `chunk_bytes`) of the captured bytes, with the stream
// offset of each direction advanced by the bytes every call moved.
class FakeConnection {
 public:
  FakeConnection(uint32_t pid, uint64_t ssl, std::string comm = "python3")
      : pid_(pid), ssl_(ssl), comm_(std::move(comm)) {}

  void SetPeerIpv4(const char* address, uint16_t port) {
    peer_ = {};
    peer_.family = AF_INET;
    peer_.port = port;
    inet_pton(AF_INET, address, peer_.address);
  }
  void SetPeerIpv6(const char* address, uint16_t port) {
    peer_ = {};
    peer_.family = AF_INET6;
    peer_.port = port;
    inet_pton(AF_INET6, address, peer_.address);
  }

  // Returns the events of one call that moved `data`. `captured_bytes` below data.size()
  // models a call cut at max_call_bytes: call_bytes stays data.size().
  std::vector<DataRecord> Call(uint32_t direction, uint32_t tid, std::string_view data,
                               uint64_t call_start_ns, uint64_t return_ns,
                               uint32_t chunk_bytes = JJ_CHUNK_BYTES,
                               size_t captured_bytes = SIZE_MAX) {
    size_t captured = std::min(captured_bytes, data.size());
    std::vector<DataRecord> records;
    for (size_t offset = 0; offset < captured; offset += chunk_bytes) {
      size_t size = std::min<size_t>(chunk_bytes, captured - offset);
      DataRecord record;
      record.event = std::make_unique<jj_data_event>();
      jj_data_event& event = *record.event;
      event.header.kind = JJ_EVENT_DATA;
      event.header.pid = pid_;
      event.header.tid = tid;
      event.header.abi_version = JJ_ABI_VERSION;
      event.header.timestamp_ns = return_ns;
      event.ssl = ssl_;
      event.call_start_ns = call_start_ns;
      event.stream_offset = offsets_[direction];
      event.call_bytes = static_cast<uint32_t>(data.size());
      event.chunk_offset = static_cast<uint32_t>(offset);
      event.chunk_bytes = static_cast<uint32_t>(size);
      event.direction = direction;
      event.peer = peer_;
      std::memcpy(event.comm, comm_.data(), std::min(comm_.size(), sizeof(event.comm)));
      std::memcpy(event.data, data.data() + offset, size);
      record.size = offsetof(jj_data_event, data) + size;
      records.push_back(std::move(record));
    }
    offsets_[direction] += data.size();
    return records;
  }

  std::vector<DataRecord> Write(uint32_t tid, std::string_view data, uint64_t call_start_ns,
                                uint32_t chunk_bytes = JJ_CHUNK_BYTES) {
    return Call(JJ_DIRECTION_WRITE, tid, data, call_start_ns, call_start_ns + 1000, chunk_bytes);
  }
  std::vector<DataRecord> Read(uint32_t tid, std::string_view data, uint64_t return_ns,
                               uint32_t chunk_bytes = JJ_CHUNK_BYTES) {
    return Call(JJ_DIRECTION_READ, tid, data, return_ns - 1000, return_ns, chunk_bytes);
  }

  uint32_t pid() const { return pid_; }
  uint64_t ssl() const { return ssl_; }

 private:
  uint32_t pid_;
  uint64_t ssl_;
  std::string comm_;
  jj_peer peer_{};
  uint64_t offsets_[2] = {0, 0};
};

inline void Feed(ConnectionTracker& tracker, const std::vector<DataRecord>& records) {
  for (const DataRecord& record : records) tracker.OnData(*record.event, record.size);
}

// Returns the context event that the BPF program emits at the entry of an SSL_write.
inline std::unique_ptr<jj_context_event> MakeContextEvent(uint32_t pid, uint32_t tid, uint64_t ssl,
                                                          uint64_t call_start_ns,
                                                          std::string_view record) {
  auto event = std::make_unique<jj_context_event>();
  event->header.kind = JJ_EVENT_USER_CONTEXT;
  event->header.pid = pid;
  event->header.tid = tid;
  event->header.abi_version = JJ_ABI_VERSION;
  event->header.timestamp_ns = call_start_ns;
  event->ssl = ssl;
  event->call_start_ns = call_start_ns;
  event->source = JJ_CONTEXT_SCOPE;
  event->status = JJ_CONTEXT_OK;
  event->record_bytes = static_cast<uint32_t>(std::min(record.size(), sizeof(event->record)));
  std::memcpy(event->record, record.data(), event->record_bytes);
  return event;
}

// Returns an HTTP/1.1 POST with a Content-Length body.
inline std::string HttpPost(std::string_view target, std::string_view host, std::string_view body) {
  std::string text = "POST ";
  text.append(target);
  text += " HTTP/1.1\r\nHost: ";
  text.append(host);
  text += "\r\nContent-Type: application/json\r\nContent-Length: ";
  text += std::to_string(body.size());
  text += "\r\n\r\n";
  text.append(body);
  return text;
}

// Returns an HTTP/1.1 response with a Content-Length body.
inline std::string HttpResponse(int status_code, std::string_view content_type,
                                std::string_view body) {
  std::string text = "HTTP/1.1 " + std::to_string(status_code) + " OK\r\nContent-Type: ";
  text.append(content_type);
  text += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  text.append(body);
  return text;
}

}  // namespace jamjet::testing
