// A fast path for the two sscanf formats libclamav's logical-signature evaluation uses.
//
// For every layer it scans, libclamav evaluates every logical signature of the matching roots,
// whether any of its subsignatures matched or not, by re-parsing the signature's expression
// ("0&(1|2)>1,2"): cli_ac_chklsig calls sscanf(expr, "%u") for each subsignature number and
// sscanf(expr, "%u,%u") for each block modifier. glibc's sscanf sets up a string FILE, measures
// the whole rest of the expression and runs the general scanf machine for each of them: with a
// production-sized database a quarter of the server's CPU on small messages went there
// (BENCHMARKS.md, "sscanf").
//
// A binary that links this target (vmscan_sscanf_fast_path: vmscan-server, the benchmarks, the
// fast path's own tests; never the engine library, so no other binary's sscanf changes) defines
// sscanf, __isoc99_sscanf and __isoc23_sscanf (the name glibc 2.38 headers give sscanf) itself:
// the dynamic linker binds libclamav's calls to the executable's definitions first. A call whose
// format is "%u" or "%u,%u" and whose number(s) are a plain run of 1-9 decimal digits is answered
// directly; everything else (other formats, signs, blanks, longer numbers) goes to glibc's
// vsscanf of the same flavour, so the results are glibc's in every case. Whether libclamav's
// calls do arrive here is checked at start-up (fast_path_check.h). The CMake option
// VMSCAN_SSCANF_FAST_PATH=OFF leaves it out altogether.
//
// This header includes nothing: sscanf_fast_path.cc must not see <cstdio>'s declarations of the
// names it defines.
#ifndef VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_SSCANF_FAST_PATH_H_
#define VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_SSCANF_FAST_PATH_H_

namespace vmscan {

// The symbols the fast path defines.
inline constexpr const char* kSscanfFastPathSymbols[] = {"sscanf", "__isoc99_sscanf",
                                                         "__isoc23_sscanf"};

// True when the dynamic linker resolves `symbol` (one of kSscanfFastPathSymbols) to the fast
// path's definition in this process; false if it resolves elsewhere (the executable does not
// export its definition: nothing it links refers to the name, or link options hid it), or for
// any other name. (A preloaded library cannot take the name: the executable comes first.)
bool SscanfFastPathBound(const char* symbol);

namespace sscanf_internal {

// What sscanf(input, format, first, second) returns when the fast path can answer it, stored in
// *result (with *first and, for "%u,%u", *second written as sscanf would); false when the call
// must go to glibc. `second` may be null for "%u".
bool TryFastScan(const char* input, const char* format, unsigned* first, unsigned* second,
                 int* result);

// How many calls the fast path has answered on the calling thread (tests: proof that libclamav's
// calls arrive here).
unsigned long long FastAnswersOnThisThread();  // NOLINT(runtime/int)

}  // namespace sscanf_internal
}  // namespace vmscan

#endif  // VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_SSCANF_FAST_PATH_H_
