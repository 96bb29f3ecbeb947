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
// vmscan-server defines sscanf and __isoc99_sscanf itself (sscanf_fast_path.cc): the dynamic
// linker binds libclamav's calls to the executable's definitions first. A call whose format is
// "%u" or "%u,%u" and whose number(s) are a plain run of 1-9 decimal digits is answered directly;
// everything else (other formats, signs, blanks, longer numbers) goes to glibc's vsscanf, so the
// results are glibc's in every case. The object is linked into every binary that uses
// ClamavEngine, because ClamavEngine::Load reports whether the fast path is bound.
#ifndef VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_H_
#define VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_H_

namespace vmscan {

// True when this process's sscanf and __isoc99_sscanf are vmscan's (what the dynamic linker
// gives libclamav), false if a preloaded library or a link order bound them elsewhere.
bool SscanfFastPathBound();

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

#endif  // VMSCAN_HOST_SERVER_ENGINE_SSCANF_FAST_PATH_H_
