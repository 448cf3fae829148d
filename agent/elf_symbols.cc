#include "agent/elf_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace jamjet {
namespace {

struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) close(fd);
  }
};

struct ElfHandle {
  Elf* elf = nullptr;
  ~ElfHandle() {
    if (elf != nullptr) elf_end(elf);
  }
};

// Converts a symbol's virtual address into the file offset a uprobe needs, through the
// PT_LOAD segment that contains it.
std::optional<uint64_t> AddressToFileOffset(const std::vector<GElf_Phdr>& segments,
                                            uint64_t address) {
  for (const GElf_Phdr& segment : segments) {
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) continue;
    if (address >= segment.p_vaddr && address < segment.p_vaddr + segment.p_filesz) {
      return address - segment.p_vaddr + segment.p_offset;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t>* SlotFor(SslSymbolOffsets& offsets, std::string_view name) {
  if (name == "SSL_write") return &offsets.ssl_write;
  if (name == "SSL_write_ex") return &offsets.ssl_write_ex;
  if (name == "SSL_read") return &offsets.ssl_read;
  if (name == "SSL_read_ex") return &offsets.ssl_read_ex;
  if (name == "SSL_free") return &offsets.ssl_free;
  return nullptr;
}

}  // namespace

absl::StatusOr<SslSymbolOffsets> ReadSslSymbols(const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) {
    return absl::InternalError("libelf initialisation failed");
  }
  FileDescriptor file{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    return absl::NotFoundError(absl::StrCat("opening ", path, " failed: ", std::strerror(errno)));
  }
  ElfHandle handle{elf_begin(file.fd, ELF_C_READ_MMAP, nullptr)};
  if (handle.elf == nullptr || elf_kind(handle.elf) != ELF_K_ELF) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an ELF file"));
  }

  size_t segment_count = 0;
  if (elf_getphdrnum(handle.elf, &segment_count) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " has no program headers"));
  }
  std::vector<GElf_Phdr> segments;
  for (size_t i = 0; i < segment_count; ++i) {
    GElf_Phdr segment;
    if (gelf_getphdr(handle.elf, static_cast<int>(i), &segment) != nullptr) {
      segments.push_back(segment);
    }
  }

  SslSymbolOffsets offsets;
  Elf_Scn* section = nullptr;
  while ((section = elf_nextscn(handle.elf, section)) != nullptr) {
    GElf_Shdr header;
    if (gelf_getshdr(section, &header) == nullptr || header.sh_type != SHT_DYNSYM) continue;
    Elf_Data* data = elf_getdata(section, nullptr);
    if (data == nullptr || header.sh_entsize == 0) continue;
    size_t count = header.sh_size / header.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym symbol;
      if (gelf_getsym(data, static_cast<int>(i), &symbol) == nullptr) continue;
      if (GELF_ST_TYPE(symbol.st_info) != STT_FUNC || symbol.st_shndx == SHN_UNDEF) continue;
      const char* name = elf_strptr(handle.elf, header.sh_link, symbol.st_name);
      if (name == nullptr || std::strncmp(name, "SSL_", 4) != 0) continue;
      std::optional<uint64_t>* slot = SlotFor(offsets, name);
      if (slot == nullptr) continue;
      *slot = AddressToFileOffset(segments, symbol.st_value);
    }
  }
  return offsets;
}

}  // namespace jamjet
