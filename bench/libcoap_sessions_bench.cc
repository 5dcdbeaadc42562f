// libcoap 4.3.1 cost per datagram and per session as the session count grows,
// against a lean Boost.Asio session layer doing the same traffic.
//
// Plain main() (it overrides benchmark_main's, which lives in a static archive
// and is therefore never pulled in). Every (design, N, repetition) runs in its
// own fork()ed child so sockets, RSS and libcoap state start clean; the parent
// prints the median of each figure over the repetitions.
//
// Designs
//   coap-server  one libcoap context + UDP endpoint on 127.0.0.1:ephemeral and a
//                GET resource "r" answering "hello". Peers are N source
//                identities (127.0.0.x:port) of plain UDP sockets owned by the
//                benchmark; each identity first sends one NON GET (the server
//                creates a session), then NON and CON GETs go round-robin in
//                batches of --batch and replies are drained. Measured: server
//                thread CPU around libcoap calls only.
//                  "process"  one coap_io_process(ctx, COAP_IO_NO_WAIT) per
//                             readiness of the context fd (what an Asio
//                             integration does); libcoap reads one datagram
//                             per call.
//                  "batched"  epoll_wait on the context fd ourselves and hand
//                             coap_io_do_epoll() the endpoint event repeated
//                             once per pending datagram (one prepare/scan per
//                             batch instead of per datagram).
//   asio-server  one Boost.Asio UDP socket, async_receive_from, sessions in an
//                unordered_map keyed by source address, hand-built reply
//                (4-byte header + token + 0xFF + payload). Same peers.
//   coap-client  the fleet's shape: one libcoap context with N client sessions
//                (coap_new_client_session, each its own socket and source
//                identity) to a plain-socket responder (not measured).
//                Measured: client thread CPU of coap_send + coap_io_process
//                per request/response, one idle coap_io_process, RSS/session.
//   asio-client  N Asio UDP sockets (one per device, connected), async_wait
//                for readability + receive into one shared buffer, per-device
//                state (mid, token, outstanding CON) in a vector.
//
// File descriptors: peers of the server designs are opened per batch (socket,
// bind to the identity, send, drain the reply, close), so the server sees N
// distinct long-lived remote addresses while the benchmark holds at most
// --batch peer sockets. Client designs need one socket per session; when
// RLIMIT_NOFILE cannot be raised far enough (no CAP_SYS_RESOURCE), only the
// newest `live` sessions keep their socket: coap-client still holds N sessions
// in its context (older ones have their fd closed right after creation, which
// epoll drops; libcoap never touches them again except in its per-call session
// scans, which is exactly the cost we measure). asio-client is capped at live.

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// ---------------------------------------------------------------- options

struct Options {
  std::vector<long> sizes{1000, 10000, 100000};
  std::vector<std::string> designs{"coap-server", "asio-server", "coap-client", "asio-client"};
  int reps = 3;            // traffic/idle measurements per process (median)
  int procs = 1;           // processes (setup + reps) per point (median of medians)
  int batch = 32;          // requests in flight per round
  double budget_s = 0.25;  // measured CPU per traffic phase (stops earlier at max_reqs)
  long max_reqs = 200000;  // per traffic phase
  long live_cap = 0;       // 0: derived from RLIMIT_NOFILE
};

// ---------------------------------------------------------------- clocks, memory

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double wall_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long rss_bytes() {
  long pages_total = 0, pages_rss = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2) pages_rss = 0;
    std::fclose(f);
  }
  return pages_rss * sysconf(_SC_PAGESIZE);
}

// Kernel slab bytes of the caches every UDP socket (plus its epoll item) costs.
// Approximate: filp and dentry are shared with whatever else runs on the box.
long socket_slab_bytes() {
  static const char* caches[] = {
      "UDP", "sock_inode_cache", "eventpoll_epi", "eventpoll_pwq", "filp", "dentry"};
  std::ifstream in("/proc/slabinfo");
  std::string line;
  long total = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name;
    long active = 0, num = 0, objsize = 0;
    if (!(ls >> name >> active >> num >> objsize)) continue;
    for (const char* c : caches)
      if (name == c) total += active * objsize;
  }
  return total;
}

double median(std::vector<double> v) {
  std::vector<double> ok;
  for (double x : v)
    if (!std::isnan(x)) ok.push_back(x);
  if (ok.empty()) return std::nan("");
  std::sort(ok.begin(), ok.end());
  return ok[ok.size() / 2];
}

// ---------------------------------------------------------------- identities

// Source identities 127.0.0.{2..}:{20000..32767}: below the ephemeral range and
// away from 127.0.0.1 so they cannot collide with other programs' sockets
// unless those bind the wildcard address on the same port.
constexpr uint16_t kPortLo = 20000, kPortHi = 32767;

sockaddr_in make_sin(uint32_t host_order_ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(host_order_ip);
  a.sin_port = htons(port);
  return a;
}

struct IdentityCursor {
  uint32_t ip = (127u << 24) | 2u;
  uint16_t port = kPortLo;
  sockaddr_in next() {
    sockaddr_in a = make_sin(ip, port);
    if (port == kPortHi) {
      port = kPortLo;
      ++ip;
    } else {
      ++port;
    }
    return a;
  }
};

int udp_socket_bound(const sockaddr_in& a) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t pick_free_loopback_port() {
  int fd = udp_socket_bound(make_sin((127u << 24) | 1u, 0));
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// ---------------------------------------------------------------- CoAP bytes

constexpr uint8_t kCon = 0, kNon = 1, kAck = 2;

// GET /r with a 4-byte token: 10 bytes.
size_t build_get(uint8_t* b, bool con, uint16_t mid, uint32_t token) {
  b[0] = static_cast<uint8_t>(0x40 | ((con ? kCon : kNon) << 4) | 4);
  b[1] = 0x01;
  b[2] = static_cast<uint8_t>(mid >> 8);
  b[3] = static_cast<uint8_t>(mid);
  std::memcpy(b + 4, &token, 4);
  b[8] = 0xB1;  // Uri-Path, delta 11, length 1
  b[9] = 'r';
  return 10;
}

// 2.05 "hello": ACK echoing the MID for a CON request, NON with own MID otherwise.
size_t build_content_reply(uint8_t* out, const uint8_t* req, size_t len, uint16_t own_mid) {
  if (len < 4) return 0;
  unsigned tkl = req[0] & 0x0F;
  if (tkl > 8 || len < 4 + tkl) return 0;
  bool con = ((req[0] >> 4) & 3) == kCon;
  out[0] = static_cast<uint8_t>(0x40 | ((con ? kAck : kNon) << 4) | tkl);
  out[1] = 0x45;
  if (con) {
    out[2] = req[2];
    out[3] = req[3];
  } else {
    out[2] = static_cast<uint8_t>(own_mid >> 8);
    out[3] = static_cast<uint8_t>(own_mid);
  }
  std::memcpy(out + 4, req + 4, tkl);
  size_t n = 4 + tkl;
  out[n++] = 0xFF;
  std::memcpy(out + n, "hello", 5);
  return n + 5;
}

// Walks the options of a request; true if it is GET with Uri-Path "r".
bool is_get_r(const uint8_t* p, size_t len) {
  if (len < 4 || (p[0] >> 6) != 1 || p[1] != 0x01) return false;
  size_t i = 4 + (p[0] & 0x0F);
  unsigned opt = 0;
  bool path_r = false;
  while (i < len && p[i] != 0xFF) {
    unsigned d = p[i] >> 4, l = p[i] & 0x0F;
    ++i;
    if (d == 13)
      d = 13u + p[i++];
    else if (d == 14) {
      d = 269u + (p[i] << 8 | p[i + 1]);
      i += 2;
    }
    if (l == 13)
      l = 13u + p[i++];
    else if (l == 14) {
      l = 269u + (p[i] << 8 | p[i + 1]);
      i += 2;
    }
    opt += d;
    if (i + l > len) return false;
    if (opt == 11 && l == 1 && p[i] == 'r') path_r = true;
    i += l;
  }
  return path_r;
}

// Times 11 back-to-back idle event-loop calls; appends their median (us).
template <class F>
void idle_calls(F call, std::vector<double>& cpu_out, std::vector<double>& wall_out) {
  std::vector<double> cpu, wall;
  for (int i = 0; i < 11; ++i) {
    double w0 = wall_s(), c0 = thread_cpu_s();
    call();
    cpu.push_back((thread_cpu_s() - c0) * 1e6);
    wall.push_back((wall_s() - w0) * 1e6);
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  cpu_out.push_back(cpu[cpu.size() / 2]);
  wall_out.push_back(wall[wall.size() / 2]);
}

// ---------------------------------------------------------------- results

struct Result {
  long n = 0;                             // sessions held by the design under test
  long live = 0;                          // sessions with a live socket (client designs)
  double setup_us = NAN;                  // CPU per new session, average over setup
  double setup_tail_us = NAN;             // CPU per new session over the last 10% of setup
  double rss_b = NAN;                     // RSS growth per session
  double kern_b = NAN;                    // kernel slab growth per live socket (approx.)
  double non_us = NAN, con_us = NAN;      // CPU per request (coap_io_process / io_context::poll)
  double non_b_us = NAN, con_b_us = NAN;  // coap-server, batched coap_io_do_epoll
  double idle_cpu_us = NAN, idle_wall_us = NAN;  // one idle event-loop call
  long reqs = 0;                                 // requests measured (all phases)
  long errors = 0;                               // missing/bad replies
};

// ---------------------------------------------------------------- transient peers

// N peer identities. A round opens one socket per identity in the round, sends
// its request, lets the server run, then drains the replies and closes.
struct Peers {
  std::vector<sockaddr_in> ids;
  std::vector<uint16_t> mids;
  sockaddr_in server{};
  uint32_t token = 1;
  size_t cursor = 0;
  std::vector<int> open_fds;
  long errors = 0;

  bool init(long n, IdentityCursor& cur) {
    ids.reserve(n);
    long tries = 0;
    while (static_cast<long>(ids.size()) < n && tries < n * 2 + 1000) {
      ++tries;
      sockaddr_in a = cur.next();
      int fd = udp_socket_bound(a);  // probe once: skip identities already taken
      if (fd < 0) continue;
      ::close(fd);
      ids.push_back(a);
    }
    mids.assign(ids.size(), 0);
    for (size_t i = 0; i < mids.size(); ++i) mids[i] = static_cast<uint16_t>(i * 7919u);
    return static_cast<long>(ids.size()) == n;
  }

  // Sends one request from each of `count` identities starting at `first`
  // (round robin). Returns the number actually sent.
  int send_round(size_t count, bool con) {
    uint8_t b[16];
    int sent = 0;
    for (size_t k = 0; k < count; ++k) {
      size_t i = cursor;
      cursor = (cursor + 1) % ids.size();
      int fd = udp_socket_bound(ids[i]);
      if (fd < 0) {
        ++errors;
        continue;
      }
      size_t len = build_get(b, con, mids[i]++, token++);
      if (::sendto(fd, b, len, 0, reinterpret_cast<const sockaddr*>(&server), sizeof server) !=
          static_cast<ssize_t>(len)) {
        ++errors;
        ::close(fd);
        continue;
      }
      open_fds.push_back(fd);
      ++sent;
    }
    return sent;
  }

  void drain_and_close() {
    uint8_t b[256];
    for (int fd : open_fds) {
      ssize_t r = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
      if (r < 0 && wait_readable(fd, 50)) r = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
      if (r < 6 || b[1] != 0x45) ++errors;
      ::close(fd);
    }
    open_fds.clear();
  }
};

// ---------------------------------------------------------------- libcoap server

uint64_t g_srv_handled = 0;

void hnd_get_r(coap_resource_t*, coap_session_t*, const coap_pdu_t*, const coap_string_t*,
               coap_pdu_t* response) {
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(response, 5, reinterpret_cast<const uint8_t*>("hello"));
  ++g_srv_handled;
}

struct CoapServer {
  coap_context_t* ctx = nullptr;
  int cfd = -1;
  uint16_t port = 0;

  bool start() {
    ctx = coap_new_context(nullptr);
    if (!ctx) return false;
    std::fprintf(stderr, "  libcoap defaults: max_idle_sessions=%u session_timeout=%us\n",
                 coap_context_get_max_idle_sessions(ctx), coap_context_get_session_timeout(ctx));
    coap_context_set_max_idle_sessions(ctx, 0);    // 0 = no cap on idle server sessions
    coap_context_set_session_timeout(ctx, 86400);  // idle sessions are freed after this
    port = pick_free_loopback_port();
    coap_address_t a;
    coap_address_init(&a);
    a.addr.sin = make_sin((127u << 24) | 1u, port);
    a.size = sizeof(sockaddr_in);
    if (!coap_new_endpoint(ctx, &a, COAP_PROTO_UDP)) return false;
    coap_resource_t* r = coap_resource_init(coap_make_str_const("r"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, hnd_get_r);
    coap_add_resource(ctx, r);
    cfd = coap_context_get_coap_fd(ctx);
    return cfd >= 0;
  }

  // Runs libcoap until `target` requests were handled; returns measured CPU.
  double serve_until(uint64_t target, bool batched) {
    double cpu = 0;
    int idle_polls = 0;
    while (g_srv_handled < target) {
      if (!wait_readable(cfd, 100)) {
        if (++idle_polls > 5) break;  // lost datagrams: give up on this round
        continue;
      }
      double t0 = thread_cpu_s();
      if (!batched) {
        coap_io_process(ctx, COAP_IO_NO_WAIT);
      } else {
        epoll_event evs[16];
        int n = epoll_wait(cfd, evs, 16, 0);
        std::array<epoll_event, 160> all;
        size_t k = 0;
        for (int i = 0; i < n; ++i) {
          if (evs[i].data.ptr == nullptr) {
            all[k++] = evs[i];
          } else {
            uint64_t rep = std::min<uint64_t>(target - g_srv_handled, 128);
            for (uint64_t j = 0; j < rep && k < all.size(); ++j) all[k++] = evs[i];
          }
        }
        coap_io_do_epoll(ctx, all.data(), k);
      }
      cpu += thread_cpu_s() - t0;
    }
    return cpu;
  }
};

// ---------------------------------------------------------------- Asio server

struct AsioServer {
  struct Session {
    int64_t last_rx_ns = 0;
    uint16_t last_con_mid = 0;
    uint16_t next_mid = 0;
  };
  asio::io_context io{1};
  udp::socket sock{io};
  udp::endpoint from;
  std::array<uint8_t, 1280> rx{};
  std::array<uint8_t, 64> tx{};
  std::unordered_map<uint64_t, Session> sessions;
  uint64_t handled = 0;
  uint16_t port = 0;

  bool start() {
    port = pick_free_loopback_port();
    boost::system::error_code ec;
    sock.open(udp::v4(), ec);
    sock.bind(udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), ec);
    if (ec) return false;
    arm();
    return true;
  }

  void arm() {
    sock.async_receive_from(asio::buffer(rx), from,
                            [this](const boost::system::error_code& ec, std::size_t n) {
                              if (ec) return;
                              on_datagram(n);
                              arm();
                            });
  }

  void on_datagram(std::size_t n) {
    if (!is_get_r(rx.data(), n)) return;
    uint64_t key = (static_cast<uint64_t>(from.address().to_v4().to_uint()) << 16) | from.port();
    Session& s = sessions[key];
    s.last_rx_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    uint16_t mid = static_cast<uint16_t>(rx[2] << 8 | rx[3]);
    if (((rx[0] >> 4) & 3) == kCon) s.last_con_mid = mid;
    size_t len = build_content_reply(tx.data(), rx.data(), n, s.next_mid++);
    boost::system::error_code ec;
    sock.send_to(asio::buffer(tx.data(), len), from, 0, ec);
    ++handled;
  }

  double serve_until(uint64_t target) {
    double cpu = 0;
    int idle_polls = 0;
    while (handled < target) {
      if (!wait_readable(sock.native_handle(), 100)) {
        if (++idle_polls > 5) break;
        continue;
      }
      double t0 = thread_cpu_s();
      io.poll();
      cpu += thread_cpu_s() - t0;
    }
    return cpu;
  }
};

// ---------------------------------------------------------------- server runs

template <class ServeFn, class CountFn>
double traffic_phase(Peers& peers, const Options& o, bool con, ServeFn serve, CountFn handled,
                     long& reqs) {
  double cpu = 0;
  long done = 0;
  long rounds = 0;
  while ((cpu < o.budget_s && done < o.max_reqs) || rounds < 3) {
    int sent = peers.send_round(static_cast<size_t>(o.batch), con);
    cpu += serve(handled() + sent);
    peers.drain_and_close();
    done += sent;
    ++rounds;
  }
  reqs += done;
  return done ? cpu / static_cast<double>(done) * 1e6 : NAN;
}

template <class ServeFn, class CountFn>
void setup_sessions(Peers& peers, long n, ServeFn serve, CountFn handled, Result& r) {
  const long chunk = 64;
  double cpu = 0, tail_cpu = 0;
  long tail_from = n - n / 10, tail_n = 0;
  for (long done = 0; done < n;) {
    long k = std::min(chunk, n - done);
    int sent = peers.send_round(static_cast<size_t>(k), false);
    double c = serve(handled() + sent);
    peers.drain_and_close();
    cpu += c;
    if (done >= tail_from) {
      tail_cpu += c;
      tail_n += sent;
    }
    done += k;
  }
  r.setup_us = cpu / static_cast<double>(n) * 1e6;
  r.setup_tail_us = tail_n ? tail_cpu / static_cast<double>(tail_n) * 1e6 : NAN;
}

Result run_coap_server(long n, const Options& o) {
  Result r;
  r.n = n;
  coap_startup();
  coap_set_log_level(LOG_EMERG);
  coap_dtls_set_log_level(LOG_EMERG);
  CoapServer srv;
  if (!srv.start()) {
    r.errors = -1;
    return r;
  }
  Peers peers;
  IdentityCursor cur;
  if (!peers.init(n, cur)) {
    r.errors = -2;
    return r;
  }
  peers.server = make_sin((127u << 24) | 1u, srv.port);
  auto count = [] { return g_srv_handled; };

  long rss0 = rss_bytes();
  // Setup drives libcoap batched so the one-per-datagram prepare scan does not
  // dominate; what remains is coap_endpoint_get_session's new-session path.
  setup_sessions(
      peers, n, [&](uint64_t t) { return srv.serve_until(t, true); }, count, r);
  r.rss_b = static_cast<double>(rss_bytes() - rss0) / static_cast<double>(n);

  auto process = [&](uint64_t t) { return srv.serve_until(t, false); };
  auto batched = [&](uint64_t t) { return srv.serve_until(t, true); };
  std::vector<double> non, con, non_b, con_b, icpu, iwall;
  for (int k = 0; k < o.reps; ++k) {
    non.push_back(traffic_phase(peers, o, false, process, count, r.reqs));
    con.push_back(traffic_phase(peers, o, true, process, count, r.reqs));
    non_b.push_back(traffic_phase(peers, o, false, batched, count, r.reqs));
    con_b.push_back(traffic_phase(peers, o, true, batched, count, r.reqs));
    idle_calls([&] { coap_io_process(srv.ctx, COAP_IO_NO_WAIT); }, icpu, iwall);
  }
  r.non_us = median(non);
  r.con_us = median(con);
  r.non_b_us = median(non_b);
  r.con_b_us = median(con_b);
  r.idle_cpu_us = median(icpu);
  r.idle_wall_us = median(iwall);
  r.errors += peers.errors;
  return r;
}

Result run_asio_server(long n, const Options& o) {
  Result r;
  r.n = n;
  AsioServer srv;
  if (!srv.start()) {
    r.errors = -1;
    return r;
  }
  Peers peers;
  IdentityCursor cur;
  if (!peers.init(n, cur)) {
    r.errors = -2;
    return r;
  }
  peers.server = make_sin((127u << 24) | 1u, srv.port);
  auto count = [&] { return srv.handled; };
  auto serve = [&](uint64_t t) { return srv.serve_until(t); };

  long rss0 = rss_bytes();
  setup_sessions(peers, n, serve, count, r);
  r.rss_b = static_cast<double>(rss_bytes() - rss0) / static_cast<double>(n);
  if (static_cast<long>(srv.sessions.size()) != n)
    r.errors += n - static_cast<long>(srv.sessions.size());

  std::vector<double> non, con, icpu, iwall;
  for (int k = 0; k < o.reps; ++k) {
    non.push_back(traffic_phase(peers, o, false, serve, count, r.reqs));
    con.push_back(traffic_phase(peers, o, true, serve, count, r.reqs));
    idle_calls([&] { srv.io.poll(); }, icpu, iwall);
  }
  r.non_us = median(non);
  r.con_us = median(con);
  r.idle_cpu_us = median(icpu);
  r.idle_wall_us = median(iwall);
  r.errors += peers.errors;
  return r;
}

// ---------------------------------------------------------------- responder (client runs)

// Plain socket standing in for the server in the client runs; its CPU is not
// measured.
struct Responder {
  int fd = -1;
  sockaddr_in addr{};
  uint16_t mid = 1;

  bool start() {
    addr = make_sin((127u << 24) | 1u, pick_free_loopback_port());
    fd = udp_socket_bound(addr);
    if (fd < 0) return false;
    int sz = 16 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
    return true;
  }

  // Answers `expected` requests (or fewer, on timeout).
  long answer(long expected) {
    uint8_t b[1500], out[64];
    long got = 0;
    while (got < expected) {
      sockaddr_in src{};
      socklen_t sl = sizeof src;
      ssize_t n = ::recvfrom(fd, b, sizeof b, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&src), &sl);
      if (n < 0) {
        if (!wait_readable(fd, 100)) break;
        continue;
      }
      ++got;
      size_t len = build_content_reply(out, b, static_cast<size_t>(n), mid++);
      if (len) ::sendto(fd, out, len, 0, reinterpret_cast<sockaddr*>(&src), sl);
    }
    return got;
  }
};

// Lowest free descriptor: the number the next socket() will get.
int next_free_fd() {
  int fd = ::dup(0);
  if (fd >= 0) ::close(fd);
  return fd;
}

// ---------------------------------------------------------------- libcoap client

uint64_t g_cli_responses = 0;
uint64_t g_cli_bad = 0;

coap_response_t on_response(coap_session_t*, const coap_pdu_t*, const coap_pdu_t* received,
                            const coap_mid_t) {
  if (coap_pdu_get_code(received) == COAP_RESPONSE_CODE_CONTENT)
    ++g_cli_responses;
  else
    ++g_cli_bad;
  return COAP_RESPONSE_OK;
}

Result run_coap_client(long n, long live_cap, const Options& o) {
  Result r;
  r.n = n;
  r.live = std::min(n, live_cap);
  coap_startup();
  coap_set_log_level(LOG_EMERG);
  coap_dtls_set_log_level(LOG_EMERG);
  Responder resp;
  if (!resp.start()) {
    r.errors = -1;
    return r;
  }
  coap_context_t* ctx = coap_new_context(nullptr);
  coap_register_response_handler(ctx, on_response);
  int cfd = coap_context_get_coap_fd(ctx);

  coap_address_t server;
  coap_address_init(&server);
  server.addr.sin = resp.addr;
  server.size = sizeof(sockaddr_in);

  std::vector<coap_session_t*> live;
  live.reserve(static_cast<size_t>(r.live));
  IdentityCursor cur;
  long rss0 = rss_bytes(), slab0 = socket_slab_bytes();
  double cpu = 0, tail_cpu = 0;
  long tail_from = n - n / 10, retire_before = n - r.live;
  long created = 0, attempts = 0;
  while (created < n && attempts < n * 2 + 1000) {
    ++attempts;
    coap_address_t local;
    coap_address_init(&local);
    local.addr.sin = cur.next();
    local.size = sizeof(sockaddr_in);
    int fd = next_free_fd();
    double t0 = thread_cpu_s();
    coap_session_t* s = coap_new_client_session(ctx, &local, &server, COAP_PROTO_UDP);
    double c = thread_cpu_s() - t0;
    if (!s) continue;  // identity taken by someone else
    cpu += c;
    if (created >= tail_from) tail_cpu += c;
    if (created < retire_before) {
      // Retire the socket (fd limit): check it is the one libcoap just opened.
      sockaddr_in got{};
      socklen_t gl = sizeof got;
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&got), &gl) != 0 ||
          got.sin_port != local.addr.sin.sin_port ||
          got.sin_addr.s_addr != local.addr.sin.sin_addr.s_addr) {
        r.errors = -3;
        return r;
      }
      ::close(fd);
    } else {
      live.push_back(s);
    }
    ++created;
  }
  if (created != n) {
    r.errors = -2;
    return r;
  }
  r.setup_us = cpu / static_cast<double>(n) * 1e6;
  r.setup_tail_us = n / 10 ? tail_cpu / static_cast<double>(n / 10) * 1e6 : NAN;
  r.rss_b = static_cast<double>(rss_bytes() - rss0) / static_cast<double>(n);
  r.kern_b = static_cast<double>(socket_slab_bytes() - slab0) / static_cast<double>(r.live);

  size_t rr = 0;
  auto phase = [&](bool con) {
    double pcpu = 0;
    long done = 0, rounds = 0;
    while ((pcpu < o.budget_s && done < o.max_reqs) || rounds < 3) {
      uint64_t target = g_cli_responses;
      double t0 = thread_cpu_s();
      for (int k = 0; k < o.batch; ++k) {
        coap_session_t* s = live[rr];
        rr = (rr + 1) % live.size();
        coap_pdu_t* pdu =
            coap_pdu_init(con ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
                          coap_new_message_id(s), coap_session_max_pdu_size(s));
        uint8_t tok[8];
        size_t tl = 0;
        coap_session_new_token(s, &tl, tok);
        coap_add_token(pdu, tl, tok);
        coap_add_option(pdu, COAP_OPTION_URI_PATH, 1, reinterpret_cast<const uint8_t*>("r"));
        if (coap_send(s, pdu) != COAP_INVALID_MID) ++target;
      }
      pcpu += thread_cpu_s() - t0;
      long answered = resp.answer(o.batch);
      if (answered != o.batch) r.errors += o.batch - answered;
      int idle_polls = 0;
      while (g_cli_responses < target) {
        if (!wait_readable(cfd, 100)) {
          if (++idle_polls > 5) {
            r.errors += static_cast<long>(target - g_cli_responses);
            break;
          }
          continue;
        }
        double t1 = thread_cpu_s();
        coap_io_process(ctx, COAP_IO_NO_WAIT);
        pcpu += thread_cpu_s() - t1;
      }
      done += o.batch;
      ++rounds;
    }
    r.reqs += done;
    return pcpu / static_cast<double>(done) * 1e6;
  };
  std::vector<double> non, con, icpu, iwall;
  for (int k = 0; k < o.reps; ++k) {
    non.push_back(phase(false));
    con.push_back(phase(true));
    idle_calls([&] { coap_io_process(ctx, COAP_IO_NO_WAIT); }, icpu, iwall);
  }
  r.non_us = median(non);
  r.con_us = median(con);
  r.idle_cpu_us = median(icpu);
  r.idle_wall_us = median(iwall);
  r.errors += static_cast<long>(g_cli_bad);
  return r;  // the child _exit()s: no teardown of retired sessions
}

// ---------------------------------------------------------------- Asio client

struct AsioFleet {
  struct Device {
    uint16_t next_mid = 0;
    uint16_t con_mid = 0;  // outstanding CON, if con_out
    uint32_t token = 0;    // outstanding request's token
    bool con_out = false;
    bool req_out = false;
  };
  asio::io_context io{1};
  std::vector<udp::socket> socks;
  std::vector<Device> dev;
  inline static std::array<uint8_t, 1500> rxbuf{};  // shared: read synchronously on readiness
  uint64_t responses = 0, bad = 0;
  uint32_t token_seq = 1;

  void arm(size_t i) {
    socks[i].async_wait(udp::socket::wait_read, [this, i](const boost::system::error_code& ec) {
      if (ec) return;
      on_readable(i);
      arm(i);
    });
  }

  void on_readable(size_t i) {
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = socks[i].receive(asio::buffer(rxbuf), 0, ec);
      if (ec) return;  // would_block
      Device& d = dev[i];
      uint32_t tok = 0;
      if (n >= 8 && (rxbuf[0] & 0x0F) == 4) std::memcpy(&tok, &rxbuf[4], 4);
      unsigned type = (rxbuf[0] >> 4) & 3;
      uint16_t mid = static_cast<uint16_t>(rxbuf[2] << 8 | rxbuf[3]);
      bool ok = d.req_out && tok == d.token && rxbuf[1] == 0x45 &&
                (!d.con_out || (type == kAck && mid == d.con_mid));
      if (ok) {
        d.req_out = d.con_out = false;
        ++responses;
      } else {
        ++bad;
      }
    }
  }

  bool send(size_t i, bool con) {
    Device& d = dev[i];
    uint8_t b[16];
    d.token = token_seq++;
    uint16_t mid = d.next_mid++;
    size_t len = build_get(b, con, mid, d.token);
    d.req_out = true;
    d.con_out = con;
    d.con_mid = mid;
    boost::system::error_code ec;
    socks[i].send(asio::buffer(b, len), 0, ec);
    return !ec;
  }
};

Result run_asio_client(long n, long live_cap, const Options& o) {
  Result r;
  r.n = std::min(n, live_cap);
  r.live = r.n;
  Responder resp;
  if (!resp.start()) {
    r.errors = -1;
    return r;
  }
  AsioFleet fleet;
  udp::endpoint server(asio::ip::make_address_v4("127.0.0.1"), ntohs(resp.addr.sin_port));
  IdentityCursor cur;
  long rss0 = rss_bytes(), slab0 = socket_slab_bytes();
  double cpu = 0, tail_cpu = 0;
  long tail_from = r.n - r.n / 10;
  fleet.socks.reserve(static_cast<size_t>(r.n));
  fleet.dev.reserve(static_cast<size_t>(r.n));
  long attempts = 0;
  while (static_cast<long>(fleet.socks.size()) < r.n && attempts < r.n * 2 + 1000) {
    ++attempts;
    sockaddr_in a = cur.next();
    double t0 = thread_cpu_s();
    udp::socket s(fleet.io);
    boost::system::error_code ec;
    s.open(udp::v4(), ec);
    s.bind(udp::endpoint(asio::ip::address_v4(ntohl(a.sin_addr.s_addr)), ntohs(a.sin_port)), ec);
    if (ec) continue;
    s.connect(server, ec);
    s.non_blocking(true, ec);
    fleet.socks.push_back(std::move(s));
    fleet.dev.emplace_back();
    fleet.arm(fleet.socks.size() - 1);
    double c = thread_cpu_s() - t0;
    cpu += c;
    if (static_cast<long>(fleet.socks.size()) > tail_from) tail_cpu += c;
  }
  if (static_cast<long>(fleet.socks.size()) != r.n) {
    r.errors = -2;
    return r;
  }
  fleet.io.poll();  // lets the reactor register the waits
  r.setup_us = cpu / static_cast<double>(r.n) * 1e6;
  r.setup_tail_us = r.n / 10 ? tail_cpu / static_cast<double>(r.n / 10) * 1e6 : NAN;
  r.rss_b = static_cast<double>(rss_bytes() - rss0) / static_cast<double>(r.n);
  r.kern_b = static_cast<double>(socket_slab_bytes() - slab0) / static_cast<double>(r.n);

  size_t rr = 0;
  auto phase = [&](bool con) {
    double pcpu = 0;
    long done = 0, rounds = 0;
    while ((pcpu < o.budget_s && done < o.max_reqs) || rounds < 3) {
      uint64_t target = fleet.responses;
      double t0 = thread_cpu_s();
      for (int k = 0; k < o.batch; ++k) {
        if (fleet.send(rr, con)) ++target;
        rr = (rr + 1) % fleet.socks.size();
      }
      pcpu += thread_cpu_s() - t0;
      long answered = resp.answer(o.batch);
      if (answered != o.batch) r.errors += o.batch - answered;
      int idle_polls = 0;
      while (fleet.responses < target) {
        double t1 = thread_cpu_s();
        std::size_t ran = fleet.io.poll();
        pcpu += thread_cpu_s() - t1;
        if (ran == 0) {
          pollfd dummy{};
          ::poll(&dummy, 0, 1);
          if (++idle_polls > 200) {
            r.errors += static_cast<long>(target - fleet.responses);
            break;
          }
        }
      }
      done += o.batch;
      ++rounds;
    }
    r.reqs += done;
    return pcpu / static_cast<double>(done) * 1e6;
  };
  std::vector<double> non, con, icpu, iwall;
  for (int k = 0; k < o.reps; ++k) {
    non.push_back(phase(false));
    con.push_back(phase(true));
    idle_calls([&] { fleet.io.poll(); }, icpu, iwall);
  }
  r.non_us = median(non);
  r.con_us = median(con);
  r.idle_cpu_us = median(icpu);
  r.idle_wall_us = median(iwall);
  r.errors += static_cast<long>(fleet.bad);
  return r;
}

// ---------------------------------------------------------------- driver

Result run_child(const std::string& design, long n, long live_cap, const Options& o) {
  if (design == "coap-server") return run_coap_server(n, o);
  if (design == "asio-server") return run_asio_server(n, o);
  if (design == "coap-client") return run_coap_client(n, live_cap, o);
  if (design == "asio-client") return run_asio_client(n, live_cap, o);
  Result r;
  r.errors = -9;
  return r;
}

Result run_forked(const std::string& design, long n, long live_cap, const Options& o) {
  int p[2];
  if (pipe(p) != 0) std::abort();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    ::close(p[0]);
    Result r = run_child(design, n, live_cap, o);
    ssize_t w = ::write(p[1], &r, sizeof r);
    (void)w;
    _exit(0);
  }
  ::close(p[1]);
  Result r;
  r.errors = -8;
  ssize_t got = 0;
  while (got < static_cast<ssize_t>(sizeof r)) {
    ssize_t k = ::read(p[0], reinterpret_cast<char*>(&r) + got, sizeof r - got);
    if (k <= 0) break;
    got += k;
  }
  ::close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (got != static_cast<ssize_t>(sizeof r)) {
    r = Result{};
    r.errors = -8;
  }
  return r;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

void usage() {
  std::fprintf(stderr,
               "usage: libcoap_sessions_bench [--sizes 1000,10000,100000] [--reps 3] [--procs 1]\n"
               "         [--designs coap-server,asio-server,coap-client,asio-client]\n"
               "         [--batch 32] [--budget 0.25] [--max-reqs 200000] [--live N]\n");
}

std::string fmt(double v, int prec = 2) {
  if (std::isnan(v)) return "-";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--sizes") {
      o.sizes.clear();
      for (auto& s : split(val())) o.sizes.push_back(std::stol(s));
    } else if (a == "--designs")
      o.designs = split(val());
    else if (a == "--reps")
      o.reps = std::stoi(val());
    else if (a == "--procs")
      o.procs = std::stoi(val());
    else if (a == "--batch")
      o.batch = std::stoi(val());
    else if (a == "--budget")
      o.budget_s = std::stod(val());
    else if (a == "--max-reqs")
      o.max_reqs = std::stol(val());
    else if (a == "--live")
      o.live_cap = std::stol(val());
    else {
      usage();
      return 2;
    }
  }
  if (o.batch < 1 || o.batch > 128) {
    std::fprintf(stderr, "--batch must be 1..128\n");
    return 2;
  }

  // Descriptors: client designs want one per session. Raise the soft limit as
  // far as the hard limit (or nr_open, if we may raise the hard limit) allows.
  long want = *std::max_element(o.sizes.begin(), o.sizes.end()) + 256;
  long nr_open = 1048576;
  if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
    if (std::fscanf(f, "%ld", &nr_open) != 1) nr_open = 1048576;
    std::fclose(f);
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t target = static_cast<rlim_t>(std::min(want, nr_open));
  if (target > rl.rlim_max) {
    rlimit up{target, target};  // raising the hard limit needs CAP_SYS_RESOURCE
    if (setrlimit(RLIMIT_NOFILE, &up) != 0) {
      std::fprintf(stderr, "  setrlimit(RLIMIT_NOFILE, %lu): %s; staying at hard limit %lu\n",
                   static_cast<unsigned long>(target), std::strerror(errno),
                   static_cast<unsigned long>(rl.rlim_max));
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  } else if (target > rl.rlim_cur) {
    rl.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  long live_cap = o.live_cap ? o.live_cap : static_cast<long>(rl.rlim_cur) - 256;
  std::printf("# libcoap %s, RLIMIT_NOFILE=%lu (wanted %ld, nr_open %ld) -> live sockets cap %ld\n",
              LIBCOAP_PACKAGE_VERSION, static_cast<unsigned long>(rl.rlim_cur), want, nr_open,
              live_cap);
  std::printf(
      "# batch %d, budget %.2fs CPU or %ld requests per traffic phase; per point %d process(es),\n"
      "# each: one setup, then %d x (traffic phases + 11 idle calls); medians reported\n",
      o.batch, o.budget_s, o.max_reqs, o.procs, o.reps);
  std::printf("# CPU = CLOCK_THREAD_CPUTIME_ID around the design's own calls; us = microseconds\n");
  std::printf("%-12s %7s %6s | %9s %9s | %8s %8s | %8s %8s %8s %8s | %9s %9s | %7s %4s\n", "design",
              "N", "live", "setup/ses", "tail/ses", "RSS/ses", "kern/sock", "NON/req", "CON/req",
              "NONbat", "CONbat", "idle-cpu", "idle-wall", "reqs", "err");
  std::fflush(stdout);

  for (long n : o.sizes) {
    for (const std::string& d : o.designs) {
      std::vector<Result> rs;
      for (int k = 0; k < o.procs; ++k) {
        double w0 = wall_s();
        rs.push_back(run_forked(d, n, live_cap, o));
        std::fprintf(stderr,
                     "  %s N=%ld rep %d: %.1fs wall, NON %.2fus CON %.2fus idle %.1fus err %ld\n",
                     d.c_str(), n, k + 1, wall_s() - w0, rs.back().non_us, rs.back().con_us,
                     rs.back().idle_cpu_us, rs.back().errors);
      }
      auto med = [&](double Result::*f) {
        std::vector<double> v;
        for (auto& r : rs) v.push_back(r.*f);
        return median(v);
      };
      long errors = 0, reqs = 0;
      for (auto& r : rs) {
        errors += r.errors;
        reqs += r.reqs;
      }
      std::printf("%-12s %7ld %6ld | %9s %9s | %8s %8s | %8s %8s %8s %8s | %9s %9s | %7ld %4ld\n",
                  d.c_str(), rs[0].n, rs[0].live ? rs[0].live : rs[0].n,
                  fmt(med(&Result::setup_us)).c_str(), fmt(med(&Result::setup_tail_us)).c_str(),
                  fmt(med(&Result::rss_b), 0).c_str(), fmt(med(&Result::kern_b), 0).c_str(),
                  fmt(med(&Result::non_us)).c_str(), fmt(med(&Result::con_us)).c_str(),
                  fmt(med(&Result::non_b_us)).c_str(), fmt(med(&Result::con_b_us)).c_str(),
                  fmt(med(&Result::idle_cpu_us)).c_str(), fmt(med(&Result::idle_wall_us)).c_str(),
                  reqs / std::max(1, o.procs), errors);
      std::fflush(stdout);
    }
  }
  std::printf(
      "# setup/ses: CPU per new session over the whole setup; tail/ses: over its last 10%%\n");
  std::printf(
      "# RSS/ses: RSS growth / sessions (bytes); kern/sock: slab growth per live socket "
      "(approx.)\n");
  std::printf(
      "# NON/CON: CPU per request handled (server) or per request sent+response handled "
      "(client)\n");
  std::printf(
      "# NONbat/CONbat: coap-server driven by coap_io_do_epoll with one prepare per batch\n");
  std::printf(
      "# idle: one coap_io_process(ctx, COAP_IO_NO_WAIT) / io_context::poll() with no traffic "
      "(us)\n");
  return 0;
}
