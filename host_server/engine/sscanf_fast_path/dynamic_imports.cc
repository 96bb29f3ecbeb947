#include "host_server/engine/sscanf_fast_path/dynamic_imports.h"

#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vmscan {
namespace {

// What the dynamic section says about the symbol table.
struct DynamicTables {
  const ElfW(Sym) * symtab = nullptr;
  const char* strtab = nullptr;
  size_t strsz = 0;
  const uint32_t* hash = nullptr;      // DT_HASH: nbucket, nchain, ...
  const uint32_t* gnu_hash = nullptr;  // DT_GNU_HASH
};

// The number of dynamic symbols, from a GNU hash table: the symbols below `symoffset` are not
// hashed (that is where the undefined ones are); above it, the highest bucket's chain ends at the
// last symbol.
size_t CountFromGnuHash(const uint32_t* table) {
  const uint32_t nbuckets = table[0];
  const uint32_t symoffset = table[1];
  const uint32_t bloom_words = table[2];
  const auto* bloom = reinterpret_cast<const ElfW(Addr)*>(table + 4);
  const auto* buckets = reinterpret_cast<const uint32_t*>(bloom + bloom_words);
  const uint32_t* chain = buckets + nbuckets;
  uint32_t last = 0;
  for (uint32_t i = 0; i < nbuckets; ++i) last = std::max(last, buckets[i]);
  if (last < symoffset) return symoffset;
  while ((chain[last - symoffset] & 1) == 0) ++last;  // the chain's last entry has bit 0 set
  return last + 1;
}

absl::Status ReadImports(const dl_phdr_info& info, std::vector<std::string>* imports) {
  const ElfW(Dyn)* dynamic = nullptr;
  for (ElfW(Half) i = 0; i < info.dlpi_phnum; ++i) {
    if (info.dlpi_phdr[i].p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(info.dlpi_addr + info.dlpi_phdr[i].p_vaddr);
    }
  }
  if (dynamic == nullptr) return absl::FailedPreconditionError("no dynamic section");
  // glibc relocates these entries in place when it loads the object (most architectures); where
  // it does not, they are still offsets from the load address, always below it.
  const ElfW(Addr) base = info.dlpi_addr;
  auto address = [base](ElfW(Addr) value) { return value < base ? value + base : value; };
  DynamicTables tables;
  for (const ElfW(Dyn)* d = dynamic; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB:
        tables.symtab = reinterpret_cast<const ElfW(Sym)*>(address(d->d_un.d_ptr));
        break;
      case DT_STRTAB:
        tables.strtab = reinterpret_cast<const char*>(address(d->d_un.d_ptr));
        break;
      case DT_STRSZ:
        tables.strsz = d->d_un.d_val;
        break;
      case DT_HASH:
        tables.hash = reinterpret_cast<const uint32_t*>(address(d->d_un.d_ptr));
        break;
      case DT_GNU_HASH:
        tables.gnu_hash = reinterpret_cast<const uint32_t*>(address(d->d_un.d_ptr));
        break;
      default:
        break;
    }
  }
  if (tables.symtab == nullptr || tables.strtab == nullptr) {
    return absl::FailedPreconditionError("no dynamic symbol table");
  }
  size_t count = 0;
  if (tables.gnu_hash != nullptr) {
    count = CountFromGnuHash(tables.gnu_hash);
  } else if (tables.hash != nullptr) {
    count = tables.hash[1];  // nchain: one entry per symbol
  } else {
    return absl::FailedPreconditionError("no symbol hash table to count the symbols by");
  }
  for (size_t i = 1; i < count; ++i) {  // entry 0 is the null symbol
    const ElfW(Sym)& sym = tables.symtab[i];
    if (sym.st_shndx != SHN_UNDEF || sym.st_name == 0 || sym.st_name >= tables.strsz) continue;
    if (ELF64_ST_BIND(sym.st_info) == STB_LOCAL) continue;  // the same macro for ELF32
    imports->emplace_back(tables.strtab + sym.st_name);
  }
  std::sort(imports->begin(), imports->end());
  imports->erase(std::unique(imports->begin(), imports->end()), imports->end());
  return absl::OkStatus();
}

struct Search {
  absl::string_view file_prefix;
  std::string path;  // of the object found; empty when none matched
  absl::Status status;
  std::vector<std::string> imports;
};

int Visit(dl_phdr_info* info, size_t /*size*/, void* data) {
  auto* search = static_cast<Search*>(data);
  const absl::string_view path = info->dlpi_name != nullptr ? info->dlpi_name : "";
  const size_t slash = path.rfind('/');
  const absl::string_view file = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  if (!absl::StartsWith(file, search->file_prefix)) return 0;
  search->path = std::string(path);
  search->status = ReadImports(*info, &search->imports);
  return 1;  // stop at the first match
}

}  // namespace

absl::StatusOr<std::vector<std::string>> DynamicImports(absl::string_view file_prefix) {
  Search search;
  search.file_prefix = file_prefix;
  if (file_prefix.empty()) return absl::InvalidArgumentError("DynamicImports: empty file prefix");
  dl_iterate_phdr(&Visit, &search);
  if (search.path.empty()) {
    return absl::NotFoundError(absl::StrCat("no loaded object named ", file_prefix, "*"));
  }
  if (!search.status.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(search.path, ": ", search.status.message()));
  }
  return std::move(search.imports);
}

}  // namespace vmscan
