// Finds every binary on the host that carries OpenSSL and attaches probes to it once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "agent/tracer.h"

namespace jamjet {

class BinaryDiscovery {
 public:
  // Attaches probes to the binary opened at `path`.
  using AttachFunction =
      std::function<absl::Status(const std::string& path, const SslSymbolOffsets& offsets)>;

  // Receives the address of a user-context registry that its process mapped away from the
  // fixed address, so the BPF program can find it.
  using RegistryFunction = std::function<void(uint32_t pid, uint64_t address)>;

  // `proc_root` is normally "/proc"; tests pass a fake tree.
  BinaryDiscovery(std::string proc_root, AttachFunction attach, RegistryFunction registry);

  // Examines the executable mappings of one process: shared libraries named libssl.so* and any
  // executable or library that exports SSL_write (Node.js carries OpenSSL inside).
  void ScanProcess(uint32_t pid);
  void ScanAllProcesses();
  // Examines libssl.so* files in `directory` and, when `executables` is set, every executable
  // file of at least 1 MiB (smaller files cannot hold a static OpenSSL).
  void ScanDirectory(const std::string& directory, bool executables);

  // Libraries are mapped after exec (dlopen, the dynamic loader), so a new process is examined
  // again a few times after its exec.
  void ScheduleRescans(uint32_t pid, uint64_t now_ns);
  void RunDueRescans(uint64_t now_ns);
  void ForgetProcess(uint32_t pid);

  size_t attached_count() const { return attached_count_; }

 private:
  using FileId = std::pair<dev_t, ino_t>;

  // Examines one file, reached at `open_path`, unless a file with the same device and inode
  // was examined before.
  void ExamineFile(const std::string& open_path, const std::string& display_path, uint32_t pid);

  std::string proc_root_;
  AttachFunction attach_;
  RegistryFunction registry_;
  std::set<FileId> examined_;
  std::multimap<uint64_t, uint32_t> rescans_;  // due time -> pid
  size_t attached_count_ = 0;
};

}  // namespace jamjet
