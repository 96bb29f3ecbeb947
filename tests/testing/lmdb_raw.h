// Reaching past a store's API into its LMDB files, as disk damage or another process would: for
// tests of what a store does with records it did not write itself.
//
//   ASSERT_TRUE(RawRewrite(dir, "content", id, [](std::string& v) { v[10] ^= 1; }).ok());
//
// The store must be closed (LMDB must not be opened twice in one process).
#ifndef VMSCAN_TESTS_TESTING_LMDB_RAW_H_
#define VMSCAN_TESTS_TESTING_LMDB_RAW_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vmscan::testing {

// Replaces the value under `key` in the named database `db` of the LMDB environment in `dir` by
// what `change` makes of it, in one committed transaction.
absl::Status RawRewrite(const std::string& dir, const std::string& db, const std::string& key,
                        absl::FunctionRef<void(std::string&)> change);

// The value under `key` in database `db` of the environment in `dir`.
absl::StatusOr<std::string> RawRead(const std::string& dir, const std::string& db,
                                    const std::string& key);

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_TESTING_LMDB_RAW_H_
