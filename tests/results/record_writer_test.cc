// The records writer's files parsed back: JSON Lines, CSV, latency samples
// and metadata.
#include "results/record_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "results/latency_file.h"
#include "results/record_csv.h"
#include "results/record_reader.h"
#include "results/run_metadata.h"

namespace fogm2m::results {
namespace {

namespace fs = std::filesystem;

class RecordFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fogm2m-results-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string out() const { return (dir_ / "out").string(); }

  static std::vector<std::string> lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }

  fs::path dir_;
};

schema::ResultRecord sample_record(uint32_t point, uint32_t rep) {
  schema::ResultRecord r;
  r.set_scenario("quick");
  r.set_mode(schema::MODE_EMULATE);
  r.set_point_index(point);
  r.set_repetition(rep);
  auto* p = r.mutable_point();
  p->set_devices(50);
  p->set_nodes(2);
  p->set_request_rate(150);
  p->set_dtls(true);
  p->set_cpu_quota_us(25000);
  p->set_cpu_period_us(100000);
  p->set_memory_limit_mb(512);
  p->set_fleets(1);
  p->set_sampling_interval_ms(50);
  p->set_lifetime_s(300);
  r.set_window_s(10);
  r.set_requests_sent(1500);
  r.set_requests_answered(1490);
  r.set_requests_errored(10);
  r.set_requests_timed_out(4);
  r.set_achieved_rate(149);
  r.mutable_latency()->set_mean_ms(3.25);
  r.mutable_latency()->set_mean_below_p95_ms(2.5);
  r.mutable_latency()->set_max_ms(120);
  for (int i = 0; i < 2; ++i) {
    auto* n = r.add_nodes();
    n->set_id(i);
    n->set_throttling_ratio(i == 0 ? 0.2 : 0.4);
    n->set_cpu_s(1 + i);
    n->set_memory_mean_bytes(1e6 * (i + 1));
    n->set_memory_peak_bytes(2e6 * (i + 1));
    n->set_rx_bytes(1000 * (i + 1));
    n->set_tx_bytes(3000);
    n->set_rx_packets(10);
    n->set_tx_packets(20 * (i + 1));
    n->set_wakeups(100 * (i + 1));
  }
  r.mutable_fleet()->set_registered(50);
  r.mutable_fleet()->set_notifications_sent(9000);
  r.mutable_fleet()->mutable_process()->set_cpu_s(4.5);
  r.mutable_fleet()->mutable_process()->set_memory_peak_bytes(3e7);
  r.mutable_redis()->set_cpu_s(0.5);
  r.mutable_redis()->set_memory_peak_bytes(8e6);
  r.mutable_host()->set_steal_ratio(0.25);
  r.mutable_host()->set_speed_probe_us(110.5);
  r.set_notifications_received(8990);
  r.set_latency_file(latency_file_name(point, rep));
  r.set_error("");
  return r;
}

// Splits one CSV line (RFC 4180 quoting).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

TEST_F(RecordFiles, CsvHeaderIsTheAgreedColumnList) {
  EXPECT_EQ(csv_header(),
            "scenario,mode,point_index,repetition,devices,nodes,request_rate,dtls,cpu_quota_us,cpu_"
            "period_us,"
            "memory_limit_mb,fleets,sampling_interval_ms,lifetime_s,fleet_cpu_quota_us,fleet_"
            "memory_limit_mb,window_s,"
            "requests_sent,requests_answered,requests_errored,requests_timed_out,achieved_rate,"
            "latency_mean_ms,"
            "latency_mean_below_p95_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_p999_"
            "ms,latency_max_ms,"
            "node_throttling_ratio_mean,node_throttling_ratio_max,node_cpu_s_mean,node_memory_mean_"
            "bytes_mean,"
            "node_memory_peak_bytes_max,node_rx_bytes_mean,node_tx_bytes_mean,node_rx_packets_mean,"
            "node_tx_packets_mean,node_wakeups_mean,fleet_registered,fleet_notifications_sent,"
            "fleet_cpu_s,fleet_memory_peak_bytes,"
            "redis_cpu_s,redis_memory_peak_bytes,host_steal_ratio,host_speed_probe_us,"
            "notifications_received,gateway_cpu_s,gateway_cpu_ms_per_1000_requests,"
            "gateway_memory_peak_bytes,gateway_added_mean_ms,gateway_added_p50_ms,"
            "gateway_added_p99_ms,latency_file,"
            "error");
}

TEST_F(RecordFiles, CsvRowValues) {
  auto cells = split_csv(csv_row(sample_record(3, 1)));
  ASSERT_EQ(cells.size(), csv_columns().size());
  std::map<std::string, std::string> row;
  for (size_t i = 0; i < cells.size(); ++i) row[csv_columns()[i]] = cells[i];
  EXPECT_EQ(row["scenario"], "quick");
  EXPECT_EQ(row["mode"], "emulate");
  EXPECT_EQ(row["point_index"], "3");
  EXPECT_EQ(row["repetition"], "1");
  EXPECT_EQ(row["request_rate"], "150");
  EXPECT_EQ(row["dtls"], "1");
  EXPECT_EQ(row["latency_mean_ms"], "3.25");
  EXPECT_EQ(row["latency_mean_below_p95_ms"], "2.5");
  EXPECT_EQ(row["node_throttling_ratio_mean"], "0.30000000000000004");  // (0.2 + 0.4) / 2, exactly
  EXPECT_EQ(row["node_throttling_ratio_max"], "0.4");
  EXPECT_EQ(row["node_cpu_s_mean"], "1.5");
  EXPECT_EQ(row["node_memory_peak_bytes_max"], "4000000");
  EXPECT_EQ(row["node_tx_packets_mean"], "30");
  EXPECT_EQ(row["node_wakeups_mean"], "150");
  EXPECT_EQ(row["fleet_registered"], "50");
  EXPECT_EQ(row["fleet_memory_peak_bytes"], "30000000");
  EXPECT_EQ(row["redis_cpu_s"], "0.5");
  EXPECT_EQ(row["host_steal_ratio"], "0.25");
  EXPECT_EQ(row["host_speed_probe_us"], "110.5");
  EXPECT_EQ(row["latency_file"], "latency/3-1.u32");
  EXPECT_EQ(row["error"], "");
  EXPECT_EQ(row["gateway_cpu_s"], "") << "the load went on the bus";
  EXPECT_EQ(row["gateway_added_p99_ms"], "");

  // Through the gateway: its figures.
  auto via_gateway = sample_record(3, 1);
  via_gateway.mutable_gateway()->mutable_process()->set_cpu_s(0.25);
  via_gateway.mutable_gateway()->set_cpu_ms_per_1000_requests(312.5);
  via_gateway.mutable_gateway()->mutable_added_latency()->set_p50_ms(0.75);
  via_gateway.mutable_gateway()->mutable_added_latency()->set_p99_ms(2.5);
  cells = split_csv(csv_row(via_gateway));
  ASSERT_EQ(cells.size(), csv_columns().size());
  for (size_t i = 0; i < cells.size(); ++i) row[csv_columns()[i]] = cells[i];
  EXPECT_EQ(row["gateway_cpu_s"], "0.25");
  EXPECT_EQ(row["gateway_cpu_ms_per_1000_requests"], "312.5");
  EXPECT_EQ(row["gateway_memory_peak_bytes"], "0");
  EXPECT_EQ(row["gateway_added_p50_ms"], "0.75");
  EXPECT_EQ(row["gateway_added_p99_ms"], "2.5");

  // No nodes: empty aggregates; text with commas and quotes is quoted.
  auto failed = sample_record(4, 0);
  failed.clear_nodes();
  failed.set_mode(schema::MODE_SIM);
  failed.set_error("deploy failed: \"nft\", exit 1\nsee log");
  cells = split_csv(csv_row(failed));
  ASSERT_EQ(cells.size(), csv_columns().size());
  EXPECT_EQ(cells[1], "sim");
  EXPECT_EQ(cells[29], "");  // node_throttling_ratio_mean
  EXPECT_EQ(cells.back(), "deploy failed: \"nft\", exit 1\nsee log");
}

TEST_F(RecordFiles, WriterAppendsBothFilesAndReaderParsesThemBack) {
  {
    auto w = RecordWriter::open(out());
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE((*w)->append(sample_record(0, 0)).ok());
    ASSERT_TRUE((*w)->append(sample_record(1, 0)).ok());
  }
  // The files are complete while a writer is still open (flushed per record).
  auto w = RecordWriter::open(out());  // continues (--resume)
  ASSERT_TRUE(w.ok()) << w.error().message;
  auto failed = sample_record(2, 0);
  failed.set_error("boom");
  ASSERT_TRUE((*w)->append(failed).ok());

  const auto csv = lines(fs::path(out()) / "records.csv");
  ASSERT_EQ(csv.size(), 4u);  // one header, three rows
  EXPECT_EQ(csv[0], csv_header());
  EXPECT_EQ(csv[1], csv_row(sample_record(0, 0)));

  const auto jsonl = lines(fs::path(out()) / "records.jsonl");
  ASSERT_EQ(jsonl.size(), 3u);
  // Proto field names, every field printed, even zero ones.
  EXPECT_NE(jsonl[0].find("\"point_index\":0"), std::string::npos) << jsonl[0];
  EXPECT_NE(jsonl[0].find("\"mean_below_p95_ms\":2.5"), std::string::npos);
  EXPECT_NE(jsonl[0].find("\"fleet_cpu_quota_us\":0"), std::string::npos);

  auto records = read_records(out());
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[1].SerializeAsString(), sample_record(1, 0).SerializeAsString());
  EXPECT_EQ((*records)[2].error(), "boom");
  const auto done = completed_runs(*records);
  EXPECT_EQ(done, (std::set<std::pair<uint32_t, uint32_t>>{{0, 0}, {1, 0}}));
}

TEST_F(RecordFiles, ReaderReportsTheMalformedLine) {
  auto none = read_records(out());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  fs::create_directories(out());
  auto line = record_json_line(sample_record(0, 0));
  ASSERT_TRUE(line.ok());
  std::ofstream(fs::path(out()) / "records.jsonl") << *line << "\n\n"
                                                   << *line << "\n{\"point_index\": \"x\"\n";
  auto r = read_records(out());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(r.error().message.find("records.jsonl:4: "), std::string::npos) << r.error().message;
}

TEST_F(RecordFiles, JsonLineCarriesTheGatewayFiguresOnlyThroughTheGateway) {
  auto bus = record_json_line(sample_record(0, 0));
  ASSERT_TRUE(bus.ok());
  EXPECT_EQ(bus->find("\"gateway\""), std::string::npos) << *bus;
  auto record = sample_record(0, 0);
  record.mutable_gateway()->mutable_process()->set_cpu_s(0.25);
  record.mutable_gateway()->set_cpu_ms_per_1000_requests(312.5);
  record.mutable_gateway()->mutable_added_latency()->set_p99_ms(2.5);
  record.mutable_gateway()->set_timed_requests(800);
  auto line = record_json_line(record);
  ASSERT_TRUE(line.ok());
  for (const char* field : {"\"gateway\":{", "\"cpu_s\":0.25", "\"cpu_ms_per_1000_requests\":312.5",
                            "\"added_latency\":{", "\"p99_ms\":2.5", "\"p50_ms\":0",
                            "\"timed_requests\":800", "\"memory_peak_bytes\":0"})
    EXPECT_NE(line->find(field), std::string::npos) << field << " in " << *line;
  fs::create_directories(out());
  std::ofstream(fs::path(out()) / "records.jsonl") << *line << "\n";
  auto back = read_records(out());
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(back->front().gateway().cpu_ms_per_1000_requests(), 312.5);
}

TEST_F(RecordFiles, WriterRefusesAnotherCsvFormat) {
  fs::create_directories(out());
  std::ofstream(fs::path(out()) / "records.csv") << "scenario,mode,something_else\n";
  auto w = RecordWriter::open(out());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(RecordFiles, LatencySamplesAreLittleEndianU32) {
  const std::vector<uint32_t> samples = {1, 0x01020304, 4294967295u, 0};
  auto name = write_latency_samples(out(), 7, 2, samples);
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(*name, "latency/7-2.u32");
  const fs::path file = fs::path(out()) / *name;
  ASSERT_EQ(fs::file_size(file), 16u);
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.substr(4, 4), std::string("\x04\x03\x02\x01", 4));
  auto back = read_latency_samples(file.string());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, samples);

  std::ofstream(fs::path(out()) / "latency" / "odd.u32") << "abcde";
  auto odd = read_latency_samples((fs::path(out()) / "latency" / "odd.u32").string());
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().kind, ErrorKind::kMalformed);
}

TEST_F(RecordFiles, Metadata) {
  fs::create_directories(dir_);
  const std::string scenario_file = (dir_ / "s.yaml").string();
  std::ofstream(scenario_file) << "abc";
  schema::Scenario scenario;
  scenario.set_name("s");
  auto m = describe_run(scenario_file, "deadbeef", scenario);
  ASSERT_TRUE(m.ok()) << m.error().message;
  // SHA-256 of "abc" (FIPS 180-2 example).
  EXPECT_EQ(m->scenario_sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(m->git_revision(), "deadbeef");
  EXPECT_FALSE(m->hostname().empty());
  EXPECT_EQ(m->kernel().rfind("Linux ", 0), 0u) << m->kernel();
  EXPECT_GE(m->cpus(), 1u);
  EXPECT_GT(m->memory_bytes(), 1e8);
  EXPECT_TRUE(m->cgroup_version() == "v1" || m->cgroup_version() == "v2" ||
              m->cgroup_version() == "none");
  EXPECT_EQ(m->scenario().name(), "s");
  EXPECT_GT(m->started_unix_s(), 1.7e9);

  ASSERT_TRUE(write_metadata(out(), *m).ok());
  std::ifstream in(fs::path(out()) / "metadata.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"scenario_sha256\": \"ba7816bf"), std::string::npos) << text.str();
  auto back = read_metadata(out());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->scenario().name(), "s");
  EXPECT_EQ(back->scenario_sha256(), m->scenario_sha256());
  EXPECT_EQ(read_metadata((dir_ / "nowhere").string()).error().kind, ErrorKind::kNotFound);
  std::ofstream(fs::path(out()) / "metadata.json") << "{not json";
  EXPECT_EQ(read_metadata(out()).error().kind, ErrorKind::kMalformed);

  EXPECT_FALSE(describe_run((dir_ / "missing.yaml").string(), "", scenario).ok());
  EXPECT_EQ(detect_cgroup_version(dir_.string()), "none");
}

}  // namespace
}  // namespace fogm2m::results
