// The testbed's process launcher and command runner on real processes:
// namespaces entered before exec, the pre-exec hook (where a cgroup is
// joined), failures reported, SIGTERM then SIGKILL, log files.
#include "testbed/process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "testbed/cleanup.h"
#include "testbed/command.h"
#include "testbed/netns.h"
#include "tests/testbed/testbed_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::read_text;

CommandOptions with_input(const std::string& text) {
  CommandOptions options;
  options.input = text;
  return options;
}

CommandOptions short_timeout() {
  CommandOptions options;
  options.timeout = std::chrono::milliseconds(100);
  return options;
}

TEST(CommandTest, CapturesOutputExitCodeAndInput) {
  auto r = run_command({"sh", "-c", "cat; echo oops >&2; exit 3"}, with_input("hello\n"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "oops\n");
  Status failed = run_checked({"sh", "-c", "echo why >&2; exit 1"});
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("why"), std::string::npos);
  EXPECT_EQ(run_command({"no-such-program-xyz"}).error().kind, ErrorKind::kNotFound);
  auto slow = run_command({"sleep", "10"}, short_timeout());
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().kind, ErrorKind::kTimeout);
}

TEST(ProcessTest, RunsInNamespaceAfterHookAndLogs) {
  const std::string ns = "fm-" + random_run_id() + "-proc";
  ASSERT_TRUE(create_netns(ns));
  const std::string log = ::testing::TempDir() + "/fogm2m-process-test.log";
  std::filesystem::remove(log);
  pid_t hooked = 0;
  LaunchOptions options;
  options.argv = {"sh", "-c", "readlink /proc/self/ns/net; echo to-stderr >&2; exec sleep 30"};
  options.netns = ns;
  options.log_path = log;
  options.before_exec = [&](pid_t pid) {
    hooked = pid;
    return Status{};
  };
  auto p = Process::launch(options);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(hooked, p->pid());
  EXPECT_TRUE(p->running());
  EXPECT_EQ(::getpgid(p->pid()), p->pid());  // leader of its own group
  for (int i = 0; i < 500 && read_text(log).find("to-stderr") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Once the shell wrote its last line its readlink child is gone: only the
  // process itself (now sleep) is in the namespace.
  EXPECT_EQ(processes_in_netns(ns), std::vector<pid_t>{p->pid()});
  auto code = p->stop(std::chrono::milliseconds(2000));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 128 + SIGTERM);
  EXPECT_FALSE(p->running());
  const std::string text = read_text(log);
  EXPECT_NE(text.find("net:[" + std::to_string(*netns_inode(ns)) + "]"), std::string::npos) << text;
  EXPECT_NE(text.find("to-stderr"), std::string::npos);
  EXPECT_TRUE(delete_netns(ns));
  std::filesystem::remove(log);
}

TEST(ProcessTest, ReportsFailuresBeforeExec) {
  LaunchOptions missing;
  missing.argv = {"/nonexistent/program"};
  EXPECT_EQ(Process::launch(missing).error().kind, ErrorKind::kNotFound);

  LaunchOptions no_ns;
  no_ns.argv = {"true"};
  no_ns.netns = "fm-none-missing";
  EXPECT_FALSE(Process::launch(no_ns));

  LaunchOptions hook_fails;
  hook_fails.argv = {"sleep", "30"};
  pid_t child = 0;
  hook_fails.before_exec = [&](pid_t pid) -> Status {
    child = pid;
    return make_error(ErrorKind::kIo, "no cgroup for you");
  };
  auto p = Process::launch(hook_fails);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("no cgroup for you"), std::string::npos);
  EXPECT_EQ(process_start_time(child), 0u);  // gone and reaped
}

TEST(ProcessTest, KillsWhatIgnoresSigterm) {
  LaunchOptions options;
  options.argv = {"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"};
  auto p = Process::launch(options);
  ASSERT_TRUE(p);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the shell install its trap
  auto code = p->stop(std::chrono::milliseconds(200));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 128 + SIGKILL);
}

TEST(ProcessTest, StopsForeignProcessOnlyWhenStartTimeMatches) {
  LaunchOptions options;
  options.argv = {"sleep", "30"};
  options.detach = true;
  auto p = Process::launch(options);
  ASSERT_TRUE(p);
  const pid_t pid = p->pid();
  EXPECT_EQ(::getsid(pid), pid);  // own session
  const auto start = process_start_time(pid);
  ASSERT_NE(start, 0u);
  EXPECT_FALSE(stop_foreign_process(pid, start + 1, std::chrono::milliseconds(100)));
  EXPECT_NE(process_start_time(pid), 0u);
  p->release();
  EXPECT_TRUE(stop_foreign_process(pid, start, std::chrono::milliseconds(2000)));
  EXPECT_EQ(process_start_time(pid), 0u);
}

}  // namespace
}  // namespace fogm2m::testbed
