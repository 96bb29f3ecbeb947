// vmscanctl as the integration tests run it: the real binary (VMSCANCTL_BIN) against a server on
// a loopback port, its --json answers read back into protos.
//
//   CommandRun run = RunVmscanctl(server->address(), "--json vms show desk-7");
//   v1::VmRecord vm = FromJson<v1::VmRecord>(run.out);
#ifndef VMSCAN_TESTS_INTEGRATION_VMSCANCTL_RUNNER_H_
#define VMSCAN_TESTS_INTEGRATION_VMSCANCTL_RUNNER_H_

#include <google/protobuf/util/json_util.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/test_mail.h"

namespace vmscan::testing {

// Runs `env vmscanctl --server SERVER --timeout 30000 ARGS` through the shell (quote paths with
// spaces in `args`); `env` is a list of NAME=VALUE, or empty.
CommandRun RunVmscanctl(const std::string& server, const std::string& args,
                        const std::string& env = "");

// `json` (canonical proto3 JSON, as --json prints it) as a Message; a failure to parse is a
// test failure naming the text.
template <typename Message>
Message FromJson(const std::string& json) {
  Message message;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &message).ok()) << json;
  return message;
}

}  // namespace vmscan::testing

#endif  // VMSCAN_TESTS_INTEGRATION_VMSCANCTL_RUNNER_H_
