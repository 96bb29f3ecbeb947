// Rng: the deterministic random numbers behind the benchmark's corpus and signature generators.
// The same seed gives the same numbers with every standard library (std:: distributions are
// implementation-defined, so none is used). Generators that draw several numbers inside one
// function call's arguments depend on the compiler's evaluation order: their output is fixed for
// a build, which is what one benchmark run compares. Not thread-safe: one per thread.
//
//   Rng rng(Rng::Mix(seed, message_index));
//   size_t words = rng.Range(20, 80);
#ifndef VMSCAN_TESTS_BENCHMARKS_RNG_H_
#define VMSCAN_TESTS_BENCHMARKS_RNG_H_

#include <cstdint>
#include <cstring>
#include <string>

namespace vmscan::bench {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : state_) s = SplitMix(&seed);
  }

  // Combines two values into a well-mixed seed: Mix(seed, index) seeds one message's generator.
  static uint64_t Mix(uint64_t a, uint64_t b) {
    uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    return SplitMix(&x);
  }

  // xoshiro256**.
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. The modulo bias is below 2^-40 for the ranges used here.
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi], inclusive.
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  bool Chance(double p) { return Unit() < p; }

  void Fill(char* out, size_t n) {
    while (n >= 8) {
      uint64_t v = Next();
      std::memcpy(out, &v, 8);
      out += 8;
      n -= 8;
    }
    if (n > 0) {
      uint64_t v = Next();
      std::memcpy(out, &v, n);
    }
  }
  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    Fill(s.data(), n);
    return s;
  }
  std::string Hex(size_t bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s(bytes * 2, '0');
    for (size_t i = 0; i < bytes; ++i) {
      const uint64_t v = Next();
      s[2 * i] = kDigits[v & 15];
      s[2 * i + 1] = kDigits[(v >> 4) & 15];
    }
    return s;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t* x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace vmscan::bench

#endif  // VMSCAN_TESTS_BENCHMARKS_RNG_H_
