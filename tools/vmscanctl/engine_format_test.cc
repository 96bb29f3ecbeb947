#include "tools/vmscanctl/engine_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmscan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::EngineStatus Serving() {
  v1::EngineStatus s;
  s.set_version("13-0123456789ab");
  s.set_signature_count(13);
  s.set_signatures_dir("/var/lib/clamav");
  s.set_loaded_unix_micros(1764835200000000);  // 2025-12-04 08:00:00 UTC
  s.set_load_duration_micros(12500);
  return s;
}

TEST(EngineFormatTest, StatusShowsVersionCountLoadTimeAndNoReloadYet) {
  const std::string text = FormatEngineStatus(Serving());
  EXPECT_THAT(text, HasSubstr("version      13-0123456789ab\n"));
  EXPECT_THAT(text, HasSubstr("signatures   13 from /var/lib/clamav\n"));
  EXPECT_THAT(text, HasSubstr("loaded       2025-12-04 08:00:00 UTC in 12 ms\n"));
  EXPECT_THAT(text, HasSubstr("last reload  none since start\n"));
  EXPECT_THAT(text, HasSubstr("reloads      0 ok, 0 failed"));
}

TEST(EngineFormatTest, AFailedReloadSaysWhyAndWhatKeepsServing) {
  v1::EngineStatus s = Serving();
  s.set_reloads_failed(1);
  v1::EngineReload* r = s.mutable_last_reload();
  r->set_trigger("sighup");
  r->set_started_unix_micros(1764835260000000);
  r->set_duration_micros(3000);
  r->set_ok(false);
  r->set_error("cannot load signatures from '/x': Malformed database\x1b[2J");
  r->set_version("13-0123456789ab");
  const std::string text = FormatEngineStatus(s);
  EXPECT_THAT(text, HasSubstr("2025-12-04 08:01:00 UTC, sighup: FAILED after 3 ms: cannot load "
                              "signatures from '/x': Malformed database?[2J (version "
                              "13-0123456789ab kept serving)"));
  EXPECT_THAT(text, HasSubstr("0 ok, 1 failed"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));  // server text is sanitized
  EXPECT_EQ(FormatReloadOutcome(s),
            "reload failed, version 13-0123456789ab keeps serving: cannot load signatures from "
            "'/x': Malformed database?[2J\n");
}

TEST(EngineFormatTest, ASuccessfulReloadNamesTheNewVersion) {
  v1::EngineStatus s = Serving();
  s.set_version("14-fedcba987654");
  s.set_signature_count(14);
  s.set_reloads_ok(1);
  s.set_old_engine_held(true);
  v1::EngineReload* r = s.mutable_last_reload();
  r->set_trigger("admin");
  r->set_ok(true);
  r->set_duration_micros(4000);
  r->set_version("14-fedcba987654");
  EXPECT_EQ(FormatReloadOutcome(s), "reloaded: 14 signatures, version 14-fedcba987654 (4 ms)\n");
  EXPECT_THAT(FormatEngineStatus(s),
              HasSubstr("1 ok, 0 failed; the replaced engine still finishes scans"));
}

}  // namespace
}  // namespace vmscan
