// The symbols a loaded shared library imports: the undefined entries of its dynamic symbol table,
// read from this process's own mapping of it (dl_iterate_phdr, PT_DYNAMIC, DT_SYMTAB/DT_STRTAB,
// the number of symbols from DT_GNU_HASH or DT_HASH). Nothing is read from disk, so the answer
// is about the library actually loaded, not a file that may have been replaced since.
//
//   VMSCAN_ASSIGN_OR_RETURN(std::vector<std::string> imports, DynamicImports("libclamav.so"));
//   // {"__isoc99_sscanf", "fscanf", "malloc", ...}
//
// Thread-safe (dl_iterate_phdr holds the dynamic loader's lock while it runs).
#ifndef VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_DYNAMIC_IMPORTS_H_
#define VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_DYNAMIC_IMPORTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmscan {

// The names (without symbol versions) that the first loaded object whose file name starts with
// `file_prefix` (e.g. "libclamav.so") imports, sorted, each once. NotFound when no loaded object
// matches; FailedPrecondition when it has no dynamic symbol table this code can read.
absl::StatusOr<std::vector<std::string>> DynamicImports(absl::string_view file_prefix);

}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_DYNAMIC_IMPORTS_H_
