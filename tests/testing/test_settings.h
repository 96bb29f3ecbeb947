// Mail Anti-Virus settings for the tests of policies and the control plane.
#ifndef VMSCAN_TESTS_TESTING_TEST_SETTINGS_H_
#define VMSCAN_TESTS_TESTING_TEST_SETTINGS_H_

#include "vmscan/v1/policy.pb.h"

namespace vmscan::testing {

// Every key set, to the product's defaults: enabled, AUTO, DELIVER_WITH_HEADER; limits 50 MiB
// message, 200 MiB scan, 100 MiB file, recursion 17, 10,000 files, 120 s; Backup 30 days, 1 GiB.
v1::MailAntivirusSettings CompleteDefaultSettings();

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_TESTING_TEST_SETTINGS_H_
