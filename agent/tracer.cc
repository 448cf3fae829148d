#include "agent/tracer.h"

#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "ssl_trace.skel.h"

namespace jamjet {
namespace {

int ForwardLibbpfLog(enum libbpf_print_level level, const char* format, va_list args) {
  char* line = nullptr;
  if (vasprintf(&line, format, args) < 0) return 0;
  std::string_view text(line);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (level == LIBBPF_WARN) {
    spdlog::warn("libbpf: {}", text);
  } else {
    spdlog::debug("libbpf: {}", text);
  }
  free(line);
  return 0;
}

// Explains a load failure in terms an operator can act on.
absl::Status DescribeLoadFailure(int error) {
  if (geteuid() != 0 && (error == EPERM || error == EACCES)) {
    return absl::PermissionDeniedError(
        "loading BPF programs was denied: run jamjet-agent as root, or grant it CAP_BPF, "
        "CAP_PERFMON and CAP_SYS_RESOURCE");
  }
  if (error == EPERM) {
    return absl::PermissionDeniedError(
        "loading BPF programs was denied although running with privileges: check kernel "
        "lockdown mode, seccomp filters and the container's security profile");
  }
  if (error == EACCES) {
    return absl::FailedPreconditionError(
        "the kernel's BPF verifier rejected a program (its log is above); the agent needs "
        "Linux 5.17 or later");
  }
  struct stat btf;
  if (stat("/sys/kernel/btf/vmlinux", &btf) != 0) {
    return absl::FailedPreconditionError(
        "loading BPF programs failed and /sys/kernel/btf/vmlinux is missing: the kernel needs "
        "CONFIG_DEBUG_INFO_BTF=y (Linux 5.8 or later)");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("loading BPF programs failed: ", std::strerror(error),
                   "; the agent needs Linux 5.17 or later (bpf_loop, ring buffer, uprobes)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SslTracer>> SslTracer::Create(const TracerOptions& options,
                                                             EventHandler handler) {
  libbpf_set_print(ForwardLibbpfLog);
  std::unique_ptr<SslTracer> tracer(new SslTracer());
  tracer->handler_ = std::move(handler);
  tracer->possible_cpus_ = libbpf_num_possible_cpus();
  if (tracer->possible_cpus_ <= 0) tracer->possible_cpus_ = 1;

  tracer->skeleton_ = ssl_trace_bpf__open();
  if (tracer->skeleton_ == nullptr) {
    return absl::InternalError(
        absl::StrCat("opening the BPF object failed: ", std::strerror(errno)));
  }
  auto* rodata = tracer->skeleton_->rodata;
  rodata->targ_self_pid = static_cast<__u32>(getpid());
  rodata->max_call_bytes = options.max_call_bytes;
  rodata->capture_peer = options.capture_peer;
  if (bpf_map__set_max_entries(tracer->skeleton_->maps.events, options.ring_buffer_bytes) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ring buffer size ",
                                                   options.ring_buffer_bytes,
                                                   ": it must be a power of two of pages"));
  }
  if (!options.capture_peer) {
    bpf_program__set_autoload(tracer->skeleton_->progs.sys_enter, false);
  }

  int error = ssl_trace_bpf__load(tracer->skeleton_);
  if (error != 0) return DescribeLoadFailure(-error);

  // Tracepoints attach here; uprobes attach per binary in AttachBinary.
  auto& progs = tracer->skeleton_->progs;
  auto* links = &tracer->skeleton_->links;
  links->process_exec = bpf_program__attach(progs.process_exec);
  links->process_exit = bpf_program__attach(progs.process_exit);
  links->process_fork = bpf_program__attach(progs.process_fork);
  if (links->process_exec == nullptr || links->process_exit == nullptr ||
      links->process_fork == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("attaching the sched_process_exec/exit/fork raw tracepoints failed: ",
                     std::strerror(errno)));
  }
  if (options.capture_peer) {
    links->sys_enter = bpf_program__attach(progs.sys_enter);
    if (links->sys_enter == nullptr) {
      spdlog::warn(
          "attaching raw tracepoint sys_enter failed ({}); spans will have no peer address",
          std::strerror(errno));
    }
  }

  tracer->ring_buffer_ = ring_buffer__new(bpf_map__fd(tracer->skeleton_->maps.events),
                                          &SslTracer::OnRingBufferRecord, tracer.get(), nullptr);
  if (tracer->ring_buffer_ == nullptr) {
    return absl::InternalError(
        absl::StrCat("creating the ring buffer reader failed: ", std::strerror(errno)));
  }
  return tracer;
}

SslTracer::~SslTracer() {
  DetachAll();
  if (ring_buffer_ != nullptr) ring_buffer__free(ring_buffer_);
  if (skeleton_ != nullptr) ssl_trace_bpf__destroy(skeleton_);
}

int SslTracer::OnRingBufferRecord(void* self, void* data, size_t size) {
  static_cast<SslTracer*>(self)->handler_(data, size);
  return 0;
}

absl::Status SslTracer::AttachBinary(const std::string& path, const SslSymbolOffsets& offsets) {
  if (!offsets.usable()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " does not export SSL_write and SSL_read"));
  }
  struct Probe {
    const std::optional<uint64_t>& offset;
    bpf_program* program;
    bool is_return;
  };
  auto& progs = skeleton_->progs;
  const Probe probes[] = {
      {offsets.ssl_write, progs.ssl_write_enter, false},
      {offsets.ssl_write, progs.ssl_call_return, true},
      {offsets.ssl_write_ex, progs.ssl_write_ex_enter, false},
      {offsets.ssl_write_ex, progs.ssl_call_return, true},
      {offsets.ssl_read, progs.ssl_read_enter, false},
      {offsets.ssl_read, progs.ssl_call_return, true},
      {offsets.ssl_read_ex, progs.ssl_read_ex_enter, false},
      {offsets.ssl_read_ex, progs.ssl_call_return, true},
      {offsets.ssl_free, progs.ssl_free_enter, false},
  };
  std::vector<bpf_link*> links;
  for (const Probe& probe : probes) {
    if (!probe.offset.has_value()) continue;
    LIBBPF_OPTS(bpf_uprobe_opts, uprobe_options, .retprobe = probe.is_return);
    bpf_link* link = bpf_program__attach_uprobe_opts(probe.program, /*pid=*/-1, path.c_str(),
                                                     *probe.offset, &uprobe_options);
    if (link == nullptr) {
      int error = errno;
      for (bpf_link* attached : links) bpf_link__destroy(attached);
      return absl::InternalError(absl::StrCat("attaching a uprobe to ", path, " at offset 0x",
                                              absl::Hex(*probe.offset),
                                              " failed: ", std::strerror(error)));
    }
    links.push_back(link);
  }
  uprobe_links_.insert(uprobe_links_.end(), links.begin(), links.end());
  ++attached_binaries_;
  return absl::OkStatus();
}

int SslTracer::Poll(int timeout_ms) { return ring_buffer__poll(ring_buffer_, timeout_ms); }

int SslTracer::Drain() { return ring_buffer__consume(ring_buffer_); }

void SslTracer::DetachAll() {
  for (bpf_link* link : uprobe_links_) bpf_link__destroy(link);
  uprobe_links_.clear();
}

void SslTracer::SetRegistryAddress(uint32_t pid, uint64_t address) {
  if (bpf_map__update_elem(skeleton_->maps.registry_addresses, &pid, sizeof(pid), &address,
                           sizeof(address), BPF_ANY) != 0) {
    spdlog::warn("recording the registry address of pid {} failed: {}", pid, std::strerror(errno));
  }
}

void SslTracer::ForgetRegistry(uint32_t pid) {
  bpf_map__delete_elem(skeleton_->maps.registry_addresses, &pid, sizeof(pid), 0);
}

DropCounts SslTracer::ReadDropCounts() const {
  DropCounts totals{};
  std::vector<uint64_t> per_cpu(possible_cpus_);
  for (uint32_t cause = 0; cause < JJ_DROP_CAUSE_COUNT; ++cause) {
    int error = bpf_map__lookup_elem(skeleton_->maps.drop_counters, &cause, sizeof(cause),
                                     per_cpu.data(), per_cpu.size() * sizeof(uint64_t), 0);
    if (error != 0) continue;
    for (uint64_t value : per_cpu) totals[cause] += value;
  }
  return totals;
}

}  // namespace jamjet
