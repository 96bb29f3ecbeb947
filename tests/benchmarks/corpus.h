// The benchmark corpus: deterministic, seeded RFC 5322 messages of realistic shape — a size mix
// from 2 KB notes to 10 MB messages with PDF, office, zip and image attachments, multipart
// nesting (alternative inside mixed, related inline images, forwarded message/rfc822), and a
// configurable share of threats (EICAR and ClamAV's test executable, bare or inside a zip).
//
//   CorpusOptions options;                    // the mixed size distribution, 5% threats
//   std::vector<MessageSpec> plan = PlanCorpus(options);
//   std::vector<Message> round1 = BuildCorpus(plan, /*variant=*/1);
//   std::vector<Message> round2 = BuildCorpus(plan, /*variant=*/2);
//
// Sizes are stratified: message i of n takes the (i + 0.5) / n quantile of the mix, so that a
// corpus of a few dozen messages already holds the mix's proportions. A plan fixes everything
// that decides the cost of a scan: each message's structure, part types,
// sizes and threats. A variant only changes the bytes (words, pixels, identifiers), so that two
// variants of a plan cost the same to scan but share no content: no engine can answer a later
// round from the clean cache it filled in an earlier one. Same seed and variant, same bytes.
//
// VDI mode (vdi_copies > 1): each unique message is delivered to that many VMs, the copies sent
// round-robin (all messages once, then all again, ...); copies differ only in their delivery
// headers (To, Delivered-To, Received), as mail delivered to 50 desktops does.
#ifndef VMSCAN_TESTS_BENCHMARKS_CORPUS_H_
#define VMSCAN_TESTS_BENCHMARKS_CORPUS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vmscan::bench {

enum class Threat { kNone, kEicar, kClamExe, kEicarInZip, kClamExeInZip };
const char* ThreatName(Threat threat);

struct CorpusOptions {
  uint64_t seed = 20240611;
  int count = 200;              // messages (in VDI mode: deliveries, unique × copies)
  double threat_share = 0.05;   // exactly round(count × share) infected, spread evenly
  size_t fixed_bytes = 0;       // every message about this size; 0: the mixed distribution
  size_t max_bytes = 10 << 20;  // upper end of the mixed distribution
  int vdi_copies = 1;
};

struct MessageSpec {
  int index = 0;
  uint64_t seed = 0;  // structure: part tree, types, sizes
  size_t target_bytes = 0;
  Threat threat = Threat::kNone;
  int copy = 0;  // VDI: which delivery of the unique message `index`
};

struct Message {
  std::string data;
  const MessageSpec* spec = nullptr;
};

std::vector<MessageSpec> PlanCorpus(const CorpusOptions& options);

// Builds the messages of `plan` with content `variant`, on `threads` threads.
std::vector<Message> BuildCorpus(const std::vector<MessageSpec>& plan, uint64_t variant,
                                 int threads = 2);
std::string BuildMessage(const MessageSpec& spec, uint64_t variant);

// ClamAV's test executable (/usr/share/clamav-testfiles/clam.exe), or empty when the package
// clamav-testfiles is missing; threats that need it then use EICAR instead.
const std::string& ClamExe();

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_CORPUS_H_
