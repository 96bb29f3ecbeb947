#include "host_server/engine/sscanf_fast_path/sscanf_fast_path.h"

#include <dlfcn.h>
#include <features.h>

#include <cstdarg>
#include <cstring>

// This file must not include <cstdio> (nor anything that does, like <string>): it declares
// sscanf itself, and this file defines the names itself, through explicit assembler names.

// glibc's own scanners, reached by their symbol names: the GNU one behind plain sscanf, the C99
// one behind __isoc99_sscanf (they differ only in what %a means; neither fast format has it) and,
// from glibc 2.38 on, the C23 one behind __isoc23_sscanf (which adds binary numbers). Before
// 2.38 nothing can have been built to call __isoc23_sscanf, and C99's scanner stands in for it.
extern "C" int GlibcVsscanf(const char* input, const char* format, va_list args) __asm__("vsscanf");
extern "C" int GlibcIsoc99Vsscanf(const char* input, const char* format,
                                  va_list args) __asm__("__isoc99_vsscanf");
#if __GLIBC_PREREQ(2, 38)
extern "C" int GlibcIsoc23Vsscanf(const char* input, const char* format,
                                  va_list args) __asm__("__isoc23_vsscanf");
#else
static int GlibcIsoc23Vsscanf(const char* input, const char* format, va_list args) {
  return GlibcIsoc99Vsscanf(input, format, args);
}
#endif

// The interposed entry points. Exported from the executable when a shared library it links
// (libclamav) references them.
extern "C" __attribute__((visibility("default"))) int VmscanSscanf(const char* input,
                                                                   const char* format,
                                                                   ...) __asm__("sscanf");
extern "C" __attribute__((visibility("default"))) int VmscanIsoc99Sscanf(
    const char* input, const char* format, ...) __asm__("__isoc99_sscanf");
extern "C" __attribute__((visibility("default"))) int VmscanIsoc23Sscanf(
    const char* input, const char* format, ...) __asm__("__isoc23_sscanf");

namespace vmscan {
namespace sscanf_internal {
namespace {

// Nine digits always fit an unsigned int; a longer run goes to glibc for its overflow rules.
constexpr int kMaxFastDigits = 9;

thread_local unsigned long long t_fast_answers = 0;  // NOLINT(runtime/int)

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads a run of 1..kMaxFastDigits digits at `p` that ends at a non-digit; returns the position
// after it, or null when `p` does not start such a run.
const char* PlainNumber(const char* p, unsigned* value) {
  if (!IsDigit(*p)) return nullptr;
  unsigned v = 0;
  int digits = 0;
  for (; IsDigit(*p); ++p) {
    if (++digits > kMaxFastDigits) return nullptr;
    v = v * 10 + static_cast<unsigned>(*p - '0');
  }
  *value = v;
  return p;
}

// 1 for "%u", 2 for "%u,%u", else 0; reads no further than the format's terminating NUL.
inline int Conversions(const char* f) {
  if (f == nullptr || f[0] != '%' || f[1] != 'u') return 0;
  if (f[2] == '\0') return 1;
  return (f[2] == ',' && f[3] == '%' && f[4] == 'u' && f[5] == '\0') ? 2 : 0;
}

// The fast path proper, for a format of `conversions` (1 or 2) conversions.
inline bool FastScan(const char* input, int conversions, unsigned* first, unsigned* second,
                     int* result) {
  if (input == nullptr) return false;
  unsigned a = 0;
  const char* rest = PlainNumber(input, &a);
  if (rest == nullptr) return false;
  if (conversions == 1 || *rest != ',') {
    // "%u", or the literal ',' does not match (or the input ended): one conversion.
    *first = a;
    *result = 1;
    ++t_fast_answers;
    return true;
  }
  unsigned b = 0;
  if (PlainNumber(rest + 1, &b) == nullptr) return false;  // blanks, a sign, a long number...
  *first = a;
  *second = b;
  *result = 2;
  ++t_fast_answers;
  return true;
}

// glibc's scanner behind each entry point.
enum class Flavour { kGnu, kIsoc99, kIsoc23 };

// The common body of the entry points: the fast path, else glibc's scanner of the same flavour.
// The pointers are only taken from `args` once the format says the caller passed them.
template <Flavour flavour>
inline int Scan(const char* input, const char* format, va_list args) {
  const int conversions = Conversions(format);
  if (conversions > 0) {
    va_list fast;
    va_copy(fast, args);
    unsigned* first = va_arg(fast, unsigned*);
    unsigned* second = conversions == 2 ? va_arg(fast, unsigned*) : nullptr;
    va_end(fast);
    int result = 0;
    if (FastScan(input, conversions, first, second, &result)) return result;
  }
  if constexpr (flavour == Flavour::kIsoc99) {
    return GlibcIsoc99Vsscanf(input, format, args);
  } else if constexpr (flavour == Flavour::kIsoc23) {
    return GlibcIsoc23Vsscanf(input, format, args);
  } else {
    return GlibcVsscanf(input, format, args);
  }
}

}  // namespace

unsigned long long FastAnswersOnThisThread() { return t_fast_answers; }  // NOLINT(runtime/int)

bool TryFastScan(const char* input, const char* format, unsigned* first, unsigned* second,
                 int* result) {
  const int conversions = Conversions(format);
  return conversions > 0 && FastScan(input, conversions, first, second, result);
}

}  // namespace sscanf_internal

bool SscanfFastPathBound(const char* symbol) {
  void* ours = nullptr;
  if (std::strcmp(symbol, "sscanf") == 0) {
    ours = reinterpret_cast<void*>(&VmscanSscanf);
  } else if (std::strcmp(symbol, "__isoc99_sscanf") == 0) {
    ours = reinterpret_cast<void*>(&VmscanIsoc99Sscanf);
  } else if (std::strcmp(symbol, "__isoc23_sscanf") == 0) {
    ours = reinterpret_cast<void*>(&VmscanIsoc23Sscanf);
  } else {
    return false;
  }
  return dlsym(RTLD_DEFAULT, symbol) == ours;
}

}  // namespace vmscan

extern "C" int VmscanSscanf(const char* input, const char* format, ...) {
  va_list args;
  va_start(args, format);
  int result =
      vmscan::sscanf_internal::Scan<vmscan::sscanf_internal::Flavour::kGnu>(input, format, args);
  va_end(args);
  return result;
}

extern "C" int VmscanIsoc99Sscanf(const char* input, const char* format, ...) {
  va_list args;
  va_start(args, format);
  int result =
      vmscan::sscanf_internal::Scan<vmscan::sscanf_internal::Flavour::kIsoc99>(input, format, args);
  va_end(args);
  return result;
}

extern "C" int VmscanIsoc23Sscanf(const char* input, const char* format, ...) {
  va_list args;
  va_start(args, format);
  int result =
      vmscan::sscanf_internal::Scan<vmscan::sscanf_internal::Flavour::kIsoc23>(input, format, args);
  va_end(args);
  return result;
}
