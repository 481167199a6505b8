// netproxy against a direct connection and against socat, side by side in one process tree.
//
// An echo server and a byte sink run in this process (a thread per connection, blocking
// sockets). The real netproxy binary runs as a child with the test scenario (net.yaml): the
// client is node alice, the echo server is ex-2 and the sink is ex-1. socat runs as a plain relay
// to the echo server (and to the sink). Each figure comes from the same client code:
//
//   ping-pong: 64 bytes there and back, one at a time, p50/p99/p99.9 round trip: direct, through
//              socat, through the proxy with no impairment (its added latency is the difference);
//   timer: how late a plain sleep of 0.1 to 100 ms wakes on this machine (every delayed round
//          trip below has a timed wake-up in the proxy and two socket wake-ups of idle threads);
//   delays: the link alice -> ex-2 set to 0.1, 1, 10 and 100 ms one way (the way back is
//           free); the measured round trip minus the unimpaired proxy's median, against the
//           configured delay;
//   bandwidth: alice -> ex-1 capped at 1, 10 and 100 Mbit/s; a client streams as fast as it can
//              and the sink counts what arrives between 0.5 s and 5.5 s after the start;
//   throughput: the same stream unimpaired for 3 s: direct, socat, proxy.
//
// A benchmark reports; it never fails on timing.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/testing/child_process.h"
#include "tcp.h"

namespace pb = market::netcontrol::v1;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

int listen_socket(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    throw std::runtime_error("cannot listen");
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    throw std::runtime_error("cannot connect to port " + std::to_string(port));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool read_exactly(int fd, char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, out, n);
    if (got <= 0) return false;
    out += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

void write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(fd, data, n);
    if (put <= 0) throw std::runtime_error("write failed");
    data += put;
    n -= static_cast<std::size_t>(put);
  }
}

// A server with a thread per connection: echo (every byte back) or sink (counts bytes, with the
// time of each read, for a throughput window).
class Server {
 public:
  enum class Kind { echo, sink };
  explicit Server(Kind kind) : kind_(kind), fd_(listen_socket(port_)) {
    acceptor_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        const int one = 1;
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::lock_guard lock(mutex_);
        const int number = ++connections_;
        ++open_;
        workers_.emplace_back([this, c, number] { serve(c, number); });
      }
    });
  }
  ~Server() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& w : workers_) w.join();
  }
  int port() const { return port_; }

  // Sink: bytes that arrived in [from, to].
  std::uint64_t bytes_between(Clock::time_point from, Clock::time_point to) {
    std::lock_guard lock(mutex_);
    std::uint64_t n = 0;
    for (const auto& [t, b] : arrivals_) {
      if (t >= from && t <= to) n += b;
    }
    return n;
  }
  // Waits until every connection has ended (a stream still draining through the proxy).
  void wait_idle() {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (open_ == 0) return;
      }
      std::this_thread::sleep_for(10ms);  // a benchmark polling its own counter
    }
  }
  void clear() {
    std::lock_guard lock(mutex_);
    arrivals_.clear();
  }

 private:
  void serve(int c, int number) {
    std::vector<char> buffer(256 * 1024);
    for (;;) {
      const ssize_t n = ::read(c, buffer.data(), buffer.size());
      if (n <= 0) break;
      if (kind_ == Kind::echo) {
        write_all(c, buffer.data(), static_cast<std::size_t>(n));
      } else {
        std::lock_guard lock(mutex_);
        // Only the newest stream counts: an older one may still drain through the proxy.
        if (number == connections_)
          arrivals_.emplace_back(Clock::now(), static_cast<std::uint64_t>(n));
      }
    }
    ::close(c);
    std::lock_guard lock(mutex_);
    --open_;
  }

  Kind kind_;
  int port_ = 0;
  int fd_;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  int connections_ = 0;
  int open_ = 0;
  std::vector<std::pair<Clock::time_point, std::uint64_t>> arrivals_;
};

// A connection to `target_port`: direct, or through a relay port, or through the proxy as alice.
int open_path(int via_port, int target_port, bool proxy) {
  const int fd = connect_to(via_port);
  if (!proxy) return fd;
  const std::string request = "CONNECT 127.0.0.1:" + std::to_string(target_port) +
                              " HTTP/1.1\r\nProxy-Authorization: Basic " +
                              mkt::netproxy::testing::Client::base64("alice") + "\r\n\r\n";
  write_all(fd, request.data(), request.size());
  std::string head;
  char ch;
  while (!head.ends_with("\r\n\r\n") && ::read(fd, &ch, 1) == 1) head.push_back(ch);
  if (head.substr(9, 3) != "200") throw std::runtime_error("CONNECT refused: " + head);
  return fd;
}

struct Percentiles {
  double p50, p99, p999;
};

Percentiles percentiles(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) {
    return us[std::min(us.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(us.size())))];
  };
  return {at(0.5), at(0.99), at(0.999)};
}

std::vector<double> ping_pong(int fd, int rounds) {
  char out[64] = {}, in[64];
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i) {
    out[0] = static_cast<char>(i);
    const auto start = Clock::now();
    write_all(fd, out, sizeof out);
    if (!read_exactly(fd, in, sizeof in)) throw std::runtime_error("echo ended");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return us;
}

// Streams to the sink for `seconds`; returns the bytes per second the sink saw from window_from
// to window_to seconds after the start (a window that closes before the stream stops).
double stream_rate(Server& sink, int fd, double seconds, double window_from, double window_to) {
  sink.clear();
  std::vector<char> chunk(64 * 1024, 'x');
  const auto start = Clock::now();
  const auto until =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < until) write_all(fd, chunk.data(), chunk.size());
  ::close(fd);
  const auto from = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(window_from));
  const auto to =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(window_to));
  return static_cast<double>(sink.bytes_between(from, to)) / (window_to - window_from);
}

// The operator's key, which changes the proxy's links (its --accounts file is written by main).
constexpr const char* operator_key = "bench-operator-key-0123";

class Control {
 public:
  explicit Control(int port)
      : stub_(pb::NetControl::NewStub(mkt::runtime::make_channel(
            "127.0.0.1:" + std::to_string(port), {.node_id = "bench", .proxy_address = ""}))) {}
  void set(const std::string& to, std::int64_t latency_us, std::int64_t bandwidth_bps) {
    pb::SetLinkRequest r;
    r.set_source("alice");
    r.set_destination(to);
    r.mutable_params()->set_latency_us(latency_us);
    r.mutable_params()->set_bandwidth_bps(bandwidth_bps);
    pb::Link link;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    context.AddMetadata("x-api-key", operator_key);
    if (!stub_->SetLink(&context, r, &link).ok()) throw std::runtime_error("SetLink failed");
  }
  void reset() {
    pb::ResetAllResponse out;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    context.AddMetadata("x-api-key", operator_key);
    if (!stub_->ResetAll(&context, {}, &out).ok()) throw std::runtime_error("ResetAll failed");
  }

 private:
  std::unique_ptr<pb::NetControl::Stub> stub_;
};

void print_row(const char* name, const Percentiles& p) {
  std::printf("  %-34s p50 %9.1f us   p99 %9.1f us   p99.9 %9.1f us\n", name, p.p50, p.p99, p.p999);
}

// A free port for socat (it cannot say which port it bound): bind port 0, read it, close.
int free_port() {
  int port = 0;
  ::close(listen_socket(port));
  return port;
}

// socat relaying a free port to `target_port`; waits until it accepts.
std::unique_ptr<mkt::testing::ChildProcess> socat_to(int target_port, int& port) {
  port = free_port();
  auto p = std::make_unique<mkt::testing::ChildProcess>(std::vector<std::string>{
      SOCAT_BINARY, "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork,nodelay",
      "TCP:127.0.0.1:" + std::to_string(target_port) + ",nodelay"});
  const auto deadline = Clock::now() + 10s;
  for (;;) {
    try {
      ::close(connect_to(port));
      return p;
    } catch (const std::exception&) {
      if (Clock::now() > deadline) throw std::runtime_error("socat did not start");
      std::this_thread::sleep_for(10ms);  // a benchmark waiting for a tool it cannot ask
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 20000;
  Server echo(Server::Kind::echo);
  Server sink(Server::Kind::sink);
  const std::string accounts = std::filesystem::temp_directory_path() /
                               ("netproxy-bench-accounts-" + std::to_string(::getpid()));
  std::ofstream(accounts) << "operator " << operator_key << "\n";
  mkt::testing::ChildProcess proxy(
      {NETPROXY_BINARY, "--config", BENCH_SCENARIO, "--node", "netproxy", "--address",
       "ex-2=127.0.0.1:" + std::to_string(echo.port()), "--address",
       "ex-1=127.0.0.1:" + std::to_string(sink.port()), "--accounts", accounts});
  struct Remove {
    std::string path;
    ~Remove() { std::filesystem::remove(path); }
  } remove{accounts};
  const auto ports =
      proxy.wait_for_line("listening on port ([0-9]+).*control on port ([0-9]+)", 20s);
  if (!ports) {
    std::fprintf(stderr, "netproxy did not start:\n%s\n", proxy.output().c_str());
    return 1;
  }
  const int proxy_port = std::stoi((*ports)[1]);
  Control control(std::stoi((*ports)[2]));
  int socat_echo_port = 0, socat_sink_port = 0;
  const auto socat_echo = socat_to(echo.port(), socat_echo_port);
  const auto socat_sink = socat_to(sink.port(), socat_sink_port);

  std::printf("netproxy benchmark: %d round trips of 64 bytes per ping-pong\n\n", rounds);
  std::printf("ping-pong, unimpaired:\n");
  const auto measure = [&](int fd, int n) {
    ping_pong(fd, std::min(n, 1000));  // warm up
    return percentiles(ping_pong(fd, n));
  };
  const int direct_fd = open_path(echo.port(), echo.port(), false);
  const int socat_fd = open_path(socat_echo_port, echo.port(), false);
  const int proxy_fd = open_path(proxy_port, echo.port(), true);
  const auto direct = measure(direct_fd, rounds);
  const auto socat = measure(socat_fd, rounds);
  const auto proxied = measure(proxy_fd, rounds);
  print_row("direct", direct);
  print_row("socat", socat);
  print_row("netproxy", proxied);
  std::printf(
      "  added round trip, p50: socat %.1f us, netproxy %.1f us (per direction %.1f us)\n\n",
      socat.p50 - direct.p50, proxied.p50 - direct.p50, (proxied.p50 - direct.p50) / 2);

  // A delayed round trip wakes sleeping threads (the proxy on its timer; the echo server and
  // the client on their sockets). What a plain timed sleep costs on this machine, with the same
  // 1 ns timer slack as the proxy, for scale:
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  std::printf("timer wake-up on this machine (sleep_for, lateness):\n");
  for (const int us : {100, 1000, 10'000, 100'000}) {
    std::vector<double> late;
    for (int i = 0; i < (us >= 100'000 ? 20 : 200); ++i) {
      const auto start = Clock::now();
      std::this_thread::sleep_for(std::chrono::microseconds(us));
      late.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() - us);
    }
    const auto p = percentiles(late);
    std::printf("  %7.1f ms: late by p50 %7.1f us   p99 %7.1f us\n", us / 1000.0, p.p50, p.p99);
  }
  std::printf("\n");

  std::printf(
      "configured one-way delay (alice -> ex-2) against measured (round trip minus the "
      "unimpaired netproxy p50):\n");
  for (const std::int64_t delay_us : {100, 1000, 10'000, 100'000}) {
    control.set("ex-2", delay_us, 0);
    const int n = static_cast<int>(std::clamp<std::int64_t>(5'000'000 / delay_us, 50, rounds));
    auto rtt = ping_pong(proxy_fd, n);
    for (auto& us : rtt) us -= proxied.p50;
    const auto p = percentiles(rtt);
    const auto d = static_cast<double>(delay_us);
    std::printf(
        "  %7.1f ms x %5d: p50 %10.1f us (off by %7.1f, goal <= %7.1f)   p99 %10.1f us (off by "
        "%7.1f, goal <= %7.1f)\n",
        d / 1000, n, p.p50, p.p50 - d, 0.02 * d + 20, p.p99, p.p99 - d, 0.05 * d + 200);
  }
  control.reset();

  std::printf("\nbandwidth cap (alice -> ex-1), sink counting from 0.5 s to 5.5 s:\n");
  for (const std::int64_t bps : {1'000'000, 10'000'000, 100'000'000}) {
    control.set("ex-1", 0, bps);
    const double rate =
        8 * stream_rate(sink, open_path(proxy_port, sink.port(), true), 6, 0.5, 5.5);
    std::printf("  %6.0f Mbit/s configured: %8.3f Mbit/s measured (%+.2f%%)\n",
                static_cast<double>(bps) / 1e6, rate / 1e6,
                100.0 * (rate - static_cast<double>(bps)) / static_cast<double>(bps));
    control.reset();  // the stream's bytes still in the proxy drain unpaced
    sink.wait_idle();
  }

  std::printf("\nunimpaired throughput, 3 s stream, counted from 0.5 s to 2.5 s:\n");
  const double direct_rate =
      stream_rate(sink, open_path(sink.port(), sink.port(), false), 3, 0.5, 2.5);
  const double socat_rate =
      stream_rate(sink, open_path(socat_sink_port, sink.port(), false), 3, 0.5, 2.5);
  const double proxy_rate =
      stream_rate(sink, open_path(proxy_port, sink.port(), true), 3, 0.5, 2.5);
  std::printf("  direct %8.1f MB/s   socat %8.1f MB/s   netproxy %8.1f MB/s (%.2fx socat)\n",
              direct_rate / 1e6, socat_rate / 1e6, proxy_rate / 1e6, proxy_rate / socat_rate);

  ::close(direct_fd);
  ::close(socat_fd);
  ::close(proxy_fd);
  proxy.terminate();
  return 0;
}
