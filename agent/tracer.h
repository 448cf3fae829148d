// Lifecycle of the ssl_trace BPF object: open, size, load, attach, poll, detach.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bpf/ssl_trace.h"

struct ssl_trace_bpf;
struct ring_buffer;
struct bpf_link;

namespace jamjet {

struct TracerOptions {
  uint32_t ring_buffer_bytes = 64u << 20;  // power of two, at least one page
  uint32_t max_call_bytes = JJ_CHUNK_BYTES * JJ_MAX_CHUNKS_PER_CALL;
  bool capture_peer = true;
};

// File offsets of the OpenSSL functions in one binary. The _ex variants are missing in
// OpenSSL before 1.1.1; SSL_free is optional (without it connections end at process exit).
struct SslSymbolOffsets {
  std::optional<uint64_t> ssl_write;
  std::optional<uint64_t> ssl_write_ex;
  std::optional<uint64_t> ssl_read;
  std::optional<uint64_t> ssl_read_ex;
  std::optional<uint64_t> ssl_free;

  bool usable() const { return ssl_write.has_value() && ssl_read.has_value(); }
};

using DropCounts = std::array<uint64_t, JJ_DROP_CAUSE_COUNT>;

class SslTracer {
 public:
  // Receives each ring-buffer record; `data` is valid only during the call.
  using EventHandler = std::function<void(const void* data, size_t size)>;

  // Loads the BPF object and attaches the process exec/exit and sys_enter tracepoints.
  // The error names what is missing (privilege, BTF, kernel feature).
  static absl::StatusOr<std::unique_ptr<SslTracer>> Create(const TracerOptions& options,
                                                           EventHandler handler);
  ~SslTracer();
  SslTracer(const SslTracer&) = delete;
  SslTracer& operator=(const SslTracer&) = delete;

  // Attaches entry and return probes to the functions of one binary, opened at `path`.
  absl::Status AttachBinary(const std::string& path, const SslSymbolOffsets& offsets);

  // Delivers pending events to the handler, waiting up to timeout_ms for the first.
  // Returns the number of events, or a negative errno (-EINTR when a signal arrived).
  int Poll(int timeout_ms);
  // Delivers every event already in the ring buffer without waiting.
  int Drain();

  // Removes every uprobe so that no new events arrive; the ring buffer stays readable.
  void DetachAll();

  // Tells the BPF program where the user-context registry of `pid` is mapped.
  void SetRegistryAddress(uint32_t pid, uint64_t address);
  void ForgetRegistry(uint32_t pid);

  DropCounts ReadDropCounts() const;
  size_t attached_binaries() const { return attached_binaries_; }

 private:
  SslTracer() = default;
  static int OnRingBufferRecord(void* self, void* data, size_t size);

  ssl_trace_bpf* skeleton_ = nullptr;
  ring_buffer* ring_buffer_ = nullptr;
  EventHandler handler_;
  std::vector<bpf_link*> uprobe_links_;
  size_t attached_binaries_ = 0;
  int possible_cpus_ = 1;
};

}  // namespace jamjet
