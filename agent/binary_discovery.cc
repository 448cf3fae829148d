#include "agent/binary_discovery.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agent/elf_symbols.h"
#include "jamjet/registry_layout.h"
#include "spdlog/spdlog.h"

namespace jamjet {
namespace {

constexpr uint64_t kNanosPerMilli = 1'000'000;
// Delays after exec at which a process's mappings are read again.
constexpr uint64_t kRescanDelaysMs[] = {20, 200, 1000, 5000};
constexpr off_t kMinStaticOpenSslBytes = 1 << 20;
constexpr std::string_view kRegistryMapping = "/memfd:" JJ_REGISTRY_MEMFD_NAME " ";

bool IsLibSsl(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return base.starts_with("libssl.so");
}

struct Mapping {
  std::string range;  // "start-end", the name of the entry under map_files
  bool executable = false;
  std::string path;
};

// Parses one /proc/PID/maps line: "start-end perms offset dev inode path".
bool ParseMapsLine(const std::string& line, Mapping& mapping) {
  std::istringstream fields(line);
  std::string perms, offset, device, inode;
  if (!(fields >> mapping.range >> perms >> offset >> device >> inode)) return false;
  std::getline(fields >> std::ws, mapping.path);
  mapping.executable = perms.size() >= 3 && perms[2] == 'x';
  return !mapping.path.empty() && mapping.path.front() == '/';
}

}  // namespace

BinaryDiscovery::BinaryDiscovery(std::string proc_root, AttachFunction attach,
                                 RegistryFunction registry)
    : proc_root_(std::move(proc_root)),
      attach_(std::move(attach)),
      registry_(std::move(registry)) {}

void BinaryDiscovery::ExamineFile(const std::string& open_path, const std::string& display_path,
                                  uint32_t pid) {
  struct stat info;
  if (stat(open_path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return;
  if (!examined_.insert({info.st_dev, info.st_ino}).second) return;

  absl::StatusOr<SslSymbolOffsets> offsets = ReadSslSymbols(open_path);
  if (!offsets.ok()) {
    spdlog::debug("skipping {}: {}", display_path, offsets.status().ToString());
    return;
  }
  if (!offsets->usable()) return;
  if (!offsets->ssl_write_ex || !offsets->ssl_read_ex) {
    spdlog::info(
        "{} has no SSL_write_ex/SSL_read_ex (OpenSSL before 1.1.1); probing SSL_write "
        "and SSL_read only",
        display_path);
  }
  absl::Status status = attach_(open_path, *offsets);
  if (!status.ok()) {
    spdlog::error("probing OpenSSL in {} failed: {}", display_path, status.ToString());
    return;
  }
  ++attached_count_;
  if (pid != 0) {
    spdlog::info("probing OpenSSL in {} (found in pid {})", display_path, pid);
  } else {
    spdlog::info("probing OpenSSL in {}", display_path);
  }
}

void BinaryDiscovery::ScanProcess(uint32_t pid) {
  std::string process_dir = absl::StrCat(proc_root_, "/", pid);
  std::ifstream maps(process_dir + "/maps");
  std::string line;
  std::set<std::string> seen_paths;
  while (std::getline(maps, line)) {
    Mapping mapping;
    if (!ParseMapsLine(line, mapping)) continue;
    if (mapping.path.starts_with(kRegistryMapping)) {
      uint64_t start = std::strtoull(mapping.range.c_str(), nullptr, 16);
      if (start != JJ_REGISTRY_FIXED_ADDRESS) registry_(pid, start);
      continue;
    }
    if (mapping.path.starts_with("/memfd:")) continue;
    bool candidate = mapping.executable || IsLibSsl(mapping.path);
    if (!candidate || !seen_paths.insert(mapping.path).second) continue;
    // Through the process's root the path resolves inside its mount namespace (containers).
    std::string via_root = absl::StrCat(process_dir, "/root", mapping.path);
    struct stat info;
    if (stat(via_root.c_str(), &info) == 0) {
      ExamineFile(via_root, mapping.path, pid);
    } else {
      // Deleted or replaced on disk: the mapping itself still reaches the file.
      ExamineFile(absl::StrCat(process_dir, "/map_files/", mapping.range), mapping.path, pid);
    }
  }
}

void BinaryDiscovery::ScanAllProcesses() {
  DIR* proc = opendir(proc_root_.c_str());
  if (proc == nullptr) {
    spdlog::error("reading {} failed; running processes will not be probed", proc_root_);
    return;
  }
  while (dirent* entry = readdir(proc)) {
    if (!std::isdigit(static_cast<unsigned char>(entry->d_name[0]))) continue;
    ScanProcess(static_cast<uint32_t>(std::strtoul(entry->d_name, nullptr, 10)));
  }
  closedir(proc);
}

void BinaryDiscovery::ScanDirectory(const std::string& directory, bool executables) {
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    std::string path = absl::StrCat(directory, "/", entry->d_name);
    if (IsLibSsl(path)) {
      ExamineFile(path, path, 0);
      continue;
    }
    if (!executables) continue;
    struct stat info;
    if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    if ((info.st_mode & S_IXUSR) == 0 || info.st_size < kMinStaticOpenSslBytes) continue;
    ExamineFile(path, path, 0);
  }
  closedir(dir);
}

void BinaryDiscovery::ScheduleRescans(uint32_t pid, uint64_t now_ns) {
  for (uint64_t delay_ms : kRescanDelaysMs) {
    rescans_.emplace(now_ns + delay_ms * kNanosPerMilli, pid);
  }
}

void BinaryDiscovery::RunDueRescans(uint64_t now_ns) {
  while (!rescans_.empty() && rescans_.begin()->first <= now_ns) {
    uint32_t pid = rescans_.begin()->second;
    rescans_.erase(rescans_.begin());
    ScanProcess(pid);
  }
}

void BinaryDiscovery::ForgetProcess(uint32_t pid) {
  for (auto it = rescans_.begin(); it != rescans_.end();) {
    it = it->second == pid ? rescans_.erase(it) : std::next(it);
  }
}

}  // namespace jamjet
