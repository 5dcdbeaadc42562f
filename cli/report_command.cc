// `fogm2m report RESULTS_DIR [--out DIR]`: the HTML report of a results
// directory (plots in the reference study's style, knee table, side-by-side
// table against the study, run metadata). The report itself is written by
// analysis/report.py with matplotlib and pandas; this command finds the
// script and a Python that can run it, runs it and says where index.html is.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lwm2m/result.h"

namespace fogm2m::cli {

namespace {

namespace fs = std::filesystem;

// Exit status of analysis/report.py when matplotlib/pandas/numpy are missing.
constexpr int kScriptMissingModules = 3;

struct ReportArgs {
  std::string results_dir;
  std::string out_dir;
  std::string devices;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

bool has_report_script(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "report.py", ec);
}

// The analysis scripts: $FOGM2M_ANALYSIS_DIR when set; else beside an
// installed executable (<prefix>/bin/fogm2m -> <prefix>/share/fogm2m/analysis);
// else the source tree the executable was built from.
Result<fs::path> find_analysis_dir() {
  if (std::string dir = env("FOGM2M_ANALYSIS_DIR"); !dir.empty()) {
    if (has_report_script(dir)) return fs::path(dir);
    return make_error(ErrorKind::kNotFound, "FOGM2M_ANALYSIS_DIR=" + dir + " holds no report.py");
  }
  std::vector<fs::path> candidates;
  std::error_code ec;
  if (fs::path exe = fs::read_symlink("/proc/self/exe", ec); !ec)
    candidates.push_back(exe.parent_path().parent_path() / "share" / "fogm2m" / "analysis");
#ifdef FOGM2M_SOURCE_DIR
  candidates.push_back(fs::path(FOGM2M_SOURCE_DIR) / "analysis");
#endif
  std::string tried;
  for (const fs::path& dir : candidates) {
    if (has_report_script(dir)) return dir;
    tried += (tried.empty() ? "" : ", ") + dir.string();
  }
  return make_error(ErrorKind::kNotFound, "analysis/report.py not found (tried " + tried +
                                              "); set FOGM2M_ANALYSIS_DIR to the analysis folder");
}

// Runs `argv` (argv[0] a path) with this process's stdin/stdout/stderr, or
// with stdout/stderr on /dev/null when `quiet`; returns its exit status.
Result<int> run(const std::vector<std::string>& argv, bool quiet) {
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = fork();
  if (pid < 0) return make_error(ErrorKind::kIo, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (quiet) {
      const int null = open("/dev/null", O_WRONLY);
      if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
      }
    }
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return make_error(ErrorKind::kIo, std::string("waitpid: ") + std::strerror(errno));
  if (WIFSIGNALED(status))
    return make_error(ErrorKind::kIo,
                      argv[0] + " killed by signal " + std::to_string(WTERMSIG(status)));
  return WEXITSTATUS(status);
}

// python3 in the directories of $PATH, "" when there is none.
std::string python3_on_path() {
  const std::string path = env("PATH");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      const std::string candidate = dir + "/python3";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "";
}

// A Python 3 that imports matplotlib, pandas and numpy: $FOGM2M_PYTHON when
// set, else python3 on PATH, else /usr/bin/python3 (Debian's, where
// scripts/install-deps.sh puts python3-matplotlib and python3-pandas; a
// pyenv or venv python3 earlier on PATH may lack them).
Result<std::string> find_python() {
  std::vector<std::string> candidates;
  if (std::string forced = env("FOGM2M_PYTHON"); !forced.empty()) {
    candidates.push_back(forced);
  } else {
    if (std::string on_path = python3_on_path(); !on_path.empty()) candidates.push_back(on_path);
    if (candidates.empty() || candidates[0] != "/usr/bin/python3")
      candidates.push_back("/usr/bin/python3");
  }
  std::string tried;
  for (const std::string& python : candidates) {
    std::string outcome;
    if (access(python.c_str(), X_OK) != 0) {
      outcome = "not found";
    } else {
      auto status = run({python, "-c", "import matplotlib, pandas, numpy"}, /*quiet=*/true);
      if (status && *status == 0) return python;
      outcome = status ? "lacks matplotlib/pandas/numpy" : status.error().message;
    }
    tried += (tried.empty() ? "" : "; ") + python + ": " + outcome;
  }
  return make_error(ErrorKind::kNotFound,
                    "no python3 with matplotlib and pandas (" + tried +
                        "); install python3, python3-matplotlib and python3-pandas "
                        "(scripts/install-deps.sh as root) "
                        "or set FOGM2M_PYTHON to an interpreter that has them");
}

int run_report(const ReportArgs& args) {
  auto analysis = find_analysis_dir();
  if (!analysis) {
    std::cerr << "fogm2m report: " << analysis.error().message << "\n";
    return 2;
  }
  auto python = find_python();
  if (!python) {
    std::cerr << "fogm2m report: " << python.error().message << "\n";
    return 2;
  }
  const fs::path out =
      args.out_dir.empty() ? fs::path(args.results_dir) / "report" : fs::path(args.out_dir);
  std::vector<std::string> argv = {*python, (*analysis / "report.py").string(), args.results_dir,
                                   "--out", out.string()};
  if (!args.devices.empty()) {
    argv.push_back("--devices");
    argv.push_back(args.devices);
  }
  auto status = run(argv, /*quiet=*/false);
  if (!status) {
    std::cerr << "fogm2m report: " << status.error().message << "\n";
    return 1;
  }
  if (*status == kScriptMissingModules) {
    std::cerr << "fogm2m report: " << *python << " lacks matplotlib or pandas (see above)\n";
    return 2;
  }
  if (*status != 0) {
    std::cerr << "fogm2m report: report.py failed (exit status " << *status
              << "); no report written\n";
    return 1;
  }
  std::error_code ec;
  const fs::path index = fs::absolute(out / "index.html", ec);
  if (!fs::is_regular_file(index, ec)) {
    std::cerr << "fogm2m report: report.py exited 0 but wrote no " << index.string() << "\n";
    return 1;
  }
  std::cout << "fogm2m report: " << index.string() << "\n";
  return 0;
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report",
                                 "Write the HTML report of a results directory: latency, CPU "
                                 "throttling, memory and network plots in the "
                                 "reference study's style (PNG + SVG), knees, a side-by-side table "
                                 "against the study, run metadata. Needs "
                                 "python3 with matplotlib and pandas (scripts/install-deps.sh).");
  cmd->add_option("results_dir", args->results_dir,
                  "Directory with records.csv, metadata.json and latency/")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", args->out_dir, "Report directory (default: RESULTS_DIR/report)");
  cmd->add_option(
      "--devices", args->devices,
      "Device counts that get a panel, comma-separated (default: those present, or 50,100,150,200 "
      "when more than four are)");
  cmd->footer(
      "Environment: FOGM2M_ANALYSIS_DIR (folder holding report.py), FOGM2M_PYTHON (the interpreter "
      "to use).");
  cmd->callback([args] {
    if (int code = run_report(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
