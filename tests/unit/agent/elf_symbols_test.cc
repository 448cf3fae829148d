// ReadSslSymbols on real ELF files, checked against nm and readelf from binutils.
#include "agent/elf_symbols.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/agent/temp_dir.h"

namespace jamjet {
namespace {

constexpr char kLibSsl[] = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
constexpr char kLibC[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
constexpr char kOpenSslTool[] = "/usr/bin/openssl";

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t read;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, read);
  pclose(pipe);
  return output;
}

// Returns the addresses of the defined dynamic symbols, by name without the version suffix,
// from `nm -D --defined-only`.
std::map<std::string, uint64_t> DefinedDynamicSymbols(const std::string& path) {
  std::map<std::string, uint64_t> symbols;
  std::istringstream lines(RunCommand("nm -D --defined-only " + path));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string address, type, name;
    if (!(fields >> address >> type >> name)) continue;
    name = name.substr(0, name.find('@'));
    symbols[name] = std::stoull(address, nullptr, 16);
  }
  return symbols;
}

struct LoadSegment {
  uint64_t offset = 0;
  uint64_t address = 0;
  uint64_t file_size = 0;
  bool executable = false;
};

// Returns the PT_LOAD segments listed by `readelf -lW`.
std::vector<LoadSegment> LoadSegments(const std::string& path) {
  std::vector<LoadSegment> segments;
  std::istringstream lines(RunCommand("readelf -lW " + path));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string type, offset, address, physical, file_size, memory_size;
    if (!(fields >> type) || type != "LOAD") continue;
    fields >> offset >> address >> physical >> file_size >> memory_size;
    LoadSegment segment;
    segment.offset = std::stoull(offset, nullptr, 16);
    segment.address = std::stoull(address, nullptr, 16);
    segment.file_size = std::stoull(file_size, nullptr, 16);
    segment.executable = line.find(" E ") != std::string::npos;
    segments.push_back(segment);
  }
  return segments;
}

std::optional<uint64_t> ExpectedOffset(const std::vector<LoadSegment>& segments, uint64_t address) {
  for (const LoadSegment& segment : segments) {
    if (!segment.executable) continue;
    if (address >= segment.address && address < segment.address + segment.file_size) {
      return address - segment.address + segment.offset;
    }
  }
  return std::nullopt;
}

TEST(ReadSslSymbolsTest, LibSslMatchesNmAndReadelf) {
  ASSERT_EQ(access(kLibSsl, R_OK), 0) << kLibSsl << " is missing: apt-get install libssl3";
  std::map<std::string, uint64_t> symbols = DefinedDynamicSymbols(kLibSsl);
  std::vector<LoadSegment> segments = LoadSegments(kLibSsl);
  ASSERT_FALSE(segments.empty()) << "readelf -lW listed no LOAD segments";

  absl::StatusOr<SslSymbolOffsets> offsets = ReadSslSymbols(kLibSsl);

  ASSERT_TRUE(offsets.ok()) << offsets.status();
  EXPECT_TRUE(offsets->usable());
  const std::pair<const char*, std::optional<uint64_t>> found[] = {
      {"SSL_write", offsets->ssl_write}, {"SSL_write_ex", offsets->ssl_write_ex},
      {"SSL_read", offsets->ssl_read},   {"SSL_read_ex", offsets->ssl_read_ex},
      {"SSL_free", offsets->ssl_free},
  };
  for (const auto& [name, offset] : found) {
    SCOPED_TRACE(name);
    ASSERT_EQ(symbols.count(name), 1u) << "nm -D does not list the symbol";
    std::optional<uint64_t> expected = ExpectedOffset(segments, symbols[name]);
    ASSERT_TRUE(expected.has_value());
    ASSERT_TRUE(offset.has_value());
    EXPECT_EQ(*offset, *expected);
  }
}

TEST(ReadSslSymbolsTest, LibCIsNotUsable) {
  absl::StatusOr<SslSymbolOffsets> offsets = ReadSslSymbols(kLibC);

  ASSERT_TRUE(offsets.ok()) << offsets.status();
  EXPECT_FALSE(offsets->usable());
  EXPECT_FALSE(offsets->ssl_write.has_value());
  EXPECT_FALSE(offsets->ssl_read.has_value());
  EXPECT_FALSE(offsets->ssl_free.has_value());
}

TEST(ReadSslSymbolsTest, ImporterGetsEmptyResult) {
  if (access(kOpenSslTool, R_OK) != 0) GTEST_SKIP() << kOpenSslTool << " is not installed";
  // The openssl tool calls SSL_write from libssl.so.3 but does not define it.
  absl::StatusOr<SslSymbolOffsets> offsets = ReadSslSymbols(kOpenSslTool);

  ASSERT_TRUE(offsets.ok()) << offsets.status();
  EXPECT_FALSE(offsets->ssl_write.has_value());
  EXPECT_FALSE(offsets->ssl_read.has_value());
  EXPECT_FALSE(offsets->usable());
}

TEST(ReadSslSymbolsTest, NonElfFileInvalid) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("libssl.so.3", "#!/bin/sh\necho not an ELF file\n");

  absl::StatusOr<SslSymbolOffsets> offsets = ReadSslSymbols(path);

  EXPECT_EQ(offsets.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(offsets.status().message()).find("not an ELF file"), std::string::npos)
      << offsets.status();
}

TEST(ReadSslSymbolsTest, EmptyFileInvalid) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("empty.so", "");

  EXPECT_EQ(ReadSslSymbols(path).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReadSslSymbolsTest, MissingFileNotFound) {
  absl::StatusOr<SslSymbolOffsets> offsets = ReadSslSymbols("/nonexistent/libssl.so.3");

  EXPECT_EQ(offsets.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(offsets.status().message()).find("/nonexistent/libssl.so.3"),
            std::string::npos);
}

}  // namespace
}  // namespace jamjet
