// metadata.json of an output directory: what ran, where and from which
// sources (schema::RunMetadata), written once per run.
#pragma once

#include <string>

#include "lwm2m/result.h"
#include "schema/result.pb.h"

namespace fogm2m::results {

// Hex SHA-256 of a file's bytes. kIo when it cannot be read.
Result<std::string> sha256_file(const std::string& path);

// "v2" when /sys/fs/cgroup is the unified hierarchy, "v1" when it holds v1
// controllers (cpu), "none" otherwise. `cgroup_root` is injectable for tests.
std::string detect_cgroup_version(const std::string& cgroup_root = "/sys/fs/cgroup");

// RunMetadata of a run starting now on this machine: fogm2m version, the
// given git revision, hostname, kernel (uname: sysname release version
// machine), CPU model (/proc/cpuinfo), online CPUs, MemTotal in bytes,
// cgroup version, the scenario file's path and SHA-256, the start time and
// the scenario itself. Machine facts that cannot be read stay empty; only an
// unreadable scenario file is an error (kIo).
Result<schema::RunMetadata> describe_run(const std::string& scenario_file,
                                         const std::string& git_revision,
                                         const schema::Scenario& scenario);

// Writes `metadata` to `output_dir`/metadata.json (indented JSON, proto field
// names), creating the directory if needed. kIo on failure.
Status write_metadata(const std::string& output_dir, const schema::RunMetadata& metadata);

// Reads `output_dir`/metadata.json back (unknown fields are skipped, so
// newer files read). kNotFound when there is none, kMalformed when it is not
// RunMetadata JSON.
Result<schema::RunMetadata> read_metadata(const std::string& output_dir);

}  // namespace fogm2m::results
