// BinaryDiscovery over a fake /proc tree whose processes map the system libssl.so.3.
#include "agent/binary_discovery.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "jamjet/registry_layout.h"
#include "tests/unit/agent/temp_dir.h"

namespace jamjet {
namespace {

namespace fs = std::filesystem;

constexpr char kLibSsl[] = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
constexpr char kLibC[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
constexpr uint64_t kMilli = 1'000'000;

std::string MapsLine(const std::string& range, const std::string& perms, const std::string& path) {
  return range + " " + perms + " 00000000 fe:01 333427                     " + path + "\n";
}

class BinaryDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kLibSsl, R_OK), 0) << kLibSsl << " is missing: apt-get install libssl3";
    discovery_ = std::make_unique<BinaryDiscovery>(
        proc_.path(),
        [this](const std::string& path, const SslSymbolOffsets& offsets) {
          attached_.push_back(path);
          EXPECT_TRUE(offsets.usable());
          return attach_status_;
        },
        [this](uint32_t pid, uint64_t address) { registries_.emplace_back(pid, address); });
  }

  // Creates /proc/PID with `maps` and a root link to the real file system.
  void AddProcess(uint32_t pid, const std::string& maps) {
    std::string dir = proc_.path() + "/" + std::to_string(pid);
    proc_.WriteFile(std::to_string(pid) + "/maps", maps);
    fs::create_directory_symlink("/", dir + "/root");
  }

  testing::TempDir proc_;
  std::unique_ptr<BinaryDiscovery> discovery_;
  std::vector<std::string> attached_;
  std::vector<std::pair<uint32_t, uint64_t>> registries_;
  absl::Status attach_status_ = absl::OkStatus();
};

TEST_F(BinaryDiscoveryTest, AttachesLibSslOnce) {
  AddProcess(100, MapsLine("7f1000000000-7f1000020000", "r--p", kLibSsl) +
                      MapsLine("7f1000020000-7f1000080000", "r-xp", kLibSsl) +
                      MapsLine("7f2000000000-7f2000100000", "r-xp", kLibC) +
                      MapsLine("55d000000000-55d000001000", "rw-p", "[heap]") +
                      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0\n");
  // A second process reaches the same file through the /lib symlink: same device and inode.
  AddProcess(200,
             MapsLine("7f3000000000-7f3000060000", "r-xp", "/lib/x86_64-linux-gnu/libssl.so.3"));

  discovery_->ScanAllProcesses();

  ASSERT_EQ(attached_.size(), 1u);
  EXPECT_EQ(attached_[0], proc_.path() + "/100/root" + kLibSsl);
  EXPECT_EQ(discovery_->attached_count(), 1u);
  EXPECT_TRUE(registries_.empty());
}

TEST_F(BinaryDiscoveryTest, DeletedFileReachedThroughMapFiles) {
  // The library was replaced on disk after the process mapped it.
  testing::TempDir copies;
  std::string copy = copies.path() + "/libssl.so.3";
  fs::copy_file(kLibSsl, copy);
  const std::string range = "7f4000000000-7f4000060000";
  AddProcess(300, MapsLine(range, "r-xp", "/opt/app/lib/libssl.so.3 (deleted)"));
  fs::create_directories(proc_.path() + "/300/map_files");
  fs::create_symlink(copy, proc_.path() + "/300/map_files/" + range);

  discovery_->ScanProcess(300);

  ASSERT_EQ(attached_.size(), 1u);
  EXPECT_EQ(attached_[0], proc_.path() + "/300/map_files/" + range);
}

struct RegistryCase {
  const char* name;
  uint64_t start;
  const char* path;
  bool reported;
};

void PrintTo(const RegistryCase& registry_case, std::ostream* out) { *out << registry_case.name; }

class RegistryMappingTest : public BinaryDiscoveryTest,
                            public ::testing::WithParamInterface<RegistryCase> {};

TEST_P(RegistryMappingTest, ReportsMovedRegistry) {
  char range[64];
  snprintf(range, sizeof(range), "%llx-%llx", static_cast<unsigned long long>(GetParam().start),
           static_cast<unsigned long long>(GetParam().start + 0x10000));
  AddProcess(400, MapsLine(range, "rw-s", GetParam().path));

  discovery_->ScanProcess(400);

  if (GetParam().reported) {
    ASSERT_EQ(registries_.size(), 1u);
    EXPECT_EQ(registries_[0].first, 400u);
    EXPECT_EQ(registries_[0].second, GetParam().start);
  } else {
    EXPECT_TRUE(registries_.empty());
  }
  EXPECT_TRUE(attached_.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Mappings, RegistryMappingTest,
    ::testing::Values(
        RegistryCase{"MovedRegistry", 0x7f5500000000ULL, "/memfd:jamjet-registry (deleted)", true},
        RegistryCase{"FixedAddress", JJ_REGISTRY_FIXED_ADDRESS, "/memfd:jamjet-registry (deleted)",
                     false},
        RegistryCase{"OtherMemfd", 0x7f5500000000ULL, "/memfd:jamjet-registry-old (deleted)",
                     false},
        RegistryCase{"UnrelatedMemfd", 0x7f5500000000ULL, "/memfd:pulseaudio (deleted)", false}),
    [](const ::testing::TestParamInfo<RegistryCase>& info) { return info.param.name; });

TEST_F(BinaryDiscoveryTest, FailedAttachNotCounted) {
  attach_status_ = absl::PermissionDeniedError("uprobe attach failed");
  AddProcess(500, MapsLine("7f1000020000-7f1000080000", "r-xp", kLibSsl));

  discovery_->ScanProcess(500);
  discovery_->ScanProcess(500);

  // The file is examined once: a failed attach is not retried on the next scan.
  EXPECT_EQ(attached_.size(), 1u);
  EXPECT_EQ(discovery_->attached_count(), 0u);
}

TEST_F(BinaryDiscoveryTest, MissingProcessIgnored) {
  discovery_->ScanProcess(12345);

  EXPECT_TRUE(attached_.empty());
  EXPECT_TRUE(registries_.empty());
}

TEST_F(BinaryDiscoveryTest, RescansAfterExecAtScheduledTimes) {
  AddProcess(600, "");
  discovery_->ScheduleRescans(600, 1000 * kMilli);
  // The dynamic loader maps libssl after the exec event.
  proc_.WriteFile("600/maps", MapsLine("7f1000020000-7f1000080000", "r-xp", kLibSsl));

  discovery_->RunDueRescans(1019 * kMilli);
  EXPECT_TRUE(attached_.empty());

  discovery_->RunDueRescans(1020 * kMilli);
  EXPECT_EQ(attached_.size(), 1u);
}

TEST_F(BinaryDiscoveryTest, ForgottenProcessNotRescanned) {
  AddProcess(700, MapsLine("7f1000020000-7f1000080000", "r-xp", kLibSsl));
  discovery_->ScheduleRescans(700, 0);
  discovery_->ForgetProcess(700);

  discovery_->RunDueRescans(10'000 * kMilli);

  EXPECT_TRUE(attached_.empty());
}

TEST_F(BinaryDiscoveryTest, ScanDirectoryFindsLibSslOnly) {
  testing::TempDir dir;
  fs::copy_file(kLibSsl, dir.path() + "/libssl.so.3");
  fs::copy_file(kLibC, dir.path() + "/libc.so.6");
  // Under 1 MiB and executable: too small to carry a static OpenSSL, so never read.
  std::string script = dir.WriteFile("tool", "#!/bin/sh\n");
  fs::permissions(script, fs::perms::owner_all);

  discovery_->ScanDirectory(dir.path(), /*executables=*/false);
  discovery_->ScanDirectory(dir.path(), /*executables=*/true);

  ASSERT_EQ(attached_.size(), 1u);
  EXPECT_EQ(attached_[0], dir.path() + "/libssl.so.3");
}

}  // namespace
}  // namespace jamjet
