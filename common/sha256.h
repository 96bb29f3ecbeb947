// Incremental SHA-256 over OpenSSL's EVP interface.
//
//   Sha256 hash;
//   hash.Update(chunk1);
//   hash.Update(chunk2);
//   std::string hex = hash.FinishHex();
//
// Not thread-safe; one object per stream.
#ifndef VMSCAN_COMMON_SHA256_H_
#define VMSCAN_COMMON_SHA256_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

struct evp_md_ctx_st;

namespace vmscan {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Lower-case hex digest. The object must not be used afterwards.
  std::string FinishHex();

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

// One-shot helper.
std::string Sha256Hex(absl::string_view data);

}  // namespace vmscan

#endif  // VMSCAN_COMMON_SHA256_H_
