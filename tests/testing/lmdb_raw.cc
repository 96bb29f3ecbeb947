#include "tests/testing/lmdb_raw.h"

#include "common/status_macros.h"
#include "host_server/storage/lmdb_env.h"

namespace vmscan::testing {

absl::Status RawRewrite(const std::string& dir, const std::string& db, const std::string& key,
                        absl::FunctionRef<void(std::string&)> change) {
  MDB_env* raw = nullptr;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_create(&raw), "create env"));
  MdbEnvPtr env(raw);
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_set_maxdbs(env.get(), 8), "set max dbs"));
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_env_open(env.get(), dir.c_str(), 0, 0600), dir));
  VMSCAN_ASSIGN_OR_RETURN(MdbTxn txn, MdbTxn::Begin(env.get(), 0));
  MDB_dbi dbi;
  VMSCAN_RETURN_IF_ERROR(LmdbStatus(mdb_dbi_open(txn.get(), db.c_str(), 0, &dbi), db));
  VMSCAN_ASSIGN_OR_RETURN(absl::string_view value, txn.Get(dbi, key));
  std::string copy(value);
  change(copy);
  VMSCAN_RETURN_IF_ERROR(txn.Put(dbi, key, copy));
  return txn.Commit();
}

absl::StatusOr<std::string> RawRead(const std::string& dir, const std::string& db,
                                    const std::string& key) {
  std::string copy;
  VMSCAN_RETURN_IF_ERROR(RawRewrite(dir, db, key, [&](std::string& value) { copy = value; }));
  return copy;
}

}  // namespace vmscan::testing
