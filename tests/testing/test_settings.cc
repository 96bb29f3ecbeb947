#include "tests/testing/test_settings.h"

#include <cstdint>

namespace vmscan::testing {

v1::MailAntivirusSettings CompleteDefaultSettings() {
  v1::MailAntivirusSettings d;
  d.set_enabled(true);
  d.set_action_on_threat(v1::ActionOnThreat::AUTO);
  d.set_on_unscannable(v1::OnUnscannable::DELIVER_WITH_HEADER);
  v1::PolicyLimits* l = d.mutable_limits();
  l->set_max_message_bytes(50 << 20);
  l->set_max_scan_bytes(200 << 20);
  l->set_max_file_bytes(100 << 20);
  l->set_max_recursion(17);
  l->set_max_files(10000);
  l->set_max_scan_time_ms(120000);
  d.mutable_backup()->set_max_age_days(30);
  d.mutable_backup()->set_max_total_bytes(uint64_t{1} << 30);
  return d;
}

}  // namespace vmscan::testing
