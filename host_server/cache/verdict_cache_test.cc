#include "host_server/cache/verdict_cache.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

CachedVerdict Infected(const std::string& name, const std::string& part) {
  CachedVerdict v;
  v.verdict = v1::INFECTED;
  v1::Threat t;
  t.set_name(name);
  t.set_part_path(part);
  v.threats.push_back(t);
  return v;
}

TEST(VerdictCacheTest, AHitReturnsWhatWasInsertedAndCountsIt) {
  VerdictCache cache(1 << 20);
  const std::string key = VerdictCacheKey("digest", "sigs-1", "engine", "");
  EXPECT_FALSE(cache.Lookup(key).has_value());
  cache.Insert(key, Infected("Eicar-Test-Signature", "2"));
  std::optional<CachedVerdict> hit = cache.Lookup(key);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->verdict, v1::INFECTED);
  ASSERT_EQ(hit->threats.size(), 1u);
  EXPECT_EQ(hit->threats[0].part_path(), "2");
  VerdictCacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.inserts, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_GT(s.bytes, 0u);
}

TEST(VerdictCacheTest, EveryPartOfTheKeySeparatesEntries) {
  const std::string base = VerdictCacheKey("d", "sigs-1", "engine", "");
  EXPECT_NE(VerdictCacheKey("d2", "sigs-1", "engine", ""), base);
  EXPECT_NE(VerdictCacheKey("d", "sigs-2", "engine", ""), base);
  EXPECT_NE(VerdictCacheKey("d", "sigs-1", "engine2", ""), base);
  EXPECT_NE(VerdictCacheKey("d", "sigs-1", "engine", "max_files=1"), base);
  // Length prefixes: moving a boundary between parts changes the key.
  EXPECT_NE(VerdictCacheKey("ab", "c", "", ""), VerdictCacheKey("a", "bc", "", ""));
}

TEST(VerdictCacheTest, BoundedByBytesLeastRecentlyUsedGoesFirst) {
  CachedVerdict clean;
  clean.verdict = v1::CLEAN;
  const uint64_t one = VerdictCache::EntryBytes(VerdictCacheKey("0", "", "", ""), clean);
  VerdictCache cache(one * 16 * 4);  // 4 entries per shard
  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) {
    keys.push_back(VerdictCacheKey(absl::StrCat(i), "", "", ""));
    cache.Insert(keys.back(), clean);
    cache.Lookup(keys[0]);  // keep the first one hot
  }
  VerdictCacheStats s = cache.stats();
  EXPECT_LE(s.bytes, s.max_bytes);
  EXPECT_LE(s.entries, 64u);
  EXPECT_GT(s.evictions, 300u);
  EXPECT_TRUE(cache.Lookup(keys[0]).has_value());    // recently used: kept
  EXPECT_FALSE(cache.Lookup(keys[1]).has_value());   // old and unused: evicted
  EXPECT_TRUE(cache.Lookup(keys[399]).has_value());  // newest: kept
}

TEST(VerdictCacheTest, ClearDropsEverythingAndZeroMeansOff) {
  VerdictCache cache(1 << 20);
  cache.Insert("k", Infected("x", ""));
  cache.Clear();
  EXPECT_FALSE(cache.Lookup("k").has_value());
  EXPECT_EQ(cache.stats().entries, 0u);
  VerdictCache off(0);
  off.Insert("k", Infected("x", ""));
  EXPECT_FALSE(off.Lookup("k").has_value());
  EXPECT_EQ(off.stats().inserts, 0u);
}

TEST(VerdictCacheTest, ManyThreadsAtOnce) {
  VerdictCache cache(256 << 10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string key = absl::StrCat((i * 7 + t) % 3000);
        if (!cache.Lookup(key)) cache.Insert(key, Infected("x", absl::StrCat(i)));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  VerdictCacheStats s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, 20000u);
  EXPECT_LE(s.bytes, s.max_bytes);
}

}  // namespace
}  // namespace vmscan
