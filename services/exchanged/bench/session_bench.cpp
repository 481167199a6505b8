// Order-to-ack over the gRPC order session, on loopback, against a real exchanged process.
//
// Each request is timed from just before the client writes it to when its ack (accepted or
// cancelled, carrying its request_id) is read back: the journal write, matching, and both gRPC
// hops included. Traffic is submit-then-cancel: a limit order far from the market, cancelled as
// soon as its ack arrives, so the book stays small and every request is journalled.
//
//   ping-pong: one session, one request in flight: the latency of an idle venue;
//   sustained: N sessions (4 by default), each with W requests in flight, for S seconds: the
//              throughput, and the latency under that load.
//
// Both journal modes (fsync, none) run side by side, each against its own exchanged, with the
// journal in --dir (default: a new directory under /var/tmp, which is on disk, unlike a tmpfs).
// A benchmark reports; it never fails on timing.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"
#include "market/exchange/v1/exchange.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/server.h"
#include "mkt/testing/child_process.h"

namespace pb = market::exchange::v1;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Options {
  int sessions = 4;
  int window = 32;
  int seconds = 5;
  int ping_pong_requests = 20000;
  std::string dir;
};

std::string key_of(int account) {
  return "bench-key-" + std::to_string(account) + "-0123456789";
}

// One order session on gRPC's callback API (no threads of its own): it keeps `window` requests
// in flight, times each ack, and turns each accepted order into a cancel.
class SessionLoad final : public grpc::ClientBidiReactor<pb::SessionRequest, pb::SessionEvent> {
 public:
  SessionLoad(pb::Exchange::Stub& stub, int account, int window) : window_(window) {
    context_.AddMetadata("x-api-key", key_of(account));
    stub.async()->OrderSession(&context_, this);
  }

  // Runs until `until` or `max_requests` sent, then waits for the acks in flight.
  void start(Clock::time_point until, std::size_t max_requests) {
    until_ = until;
    max_requests_ = max_requests;
    StartRead(&event_);
    {
      std::lock_guard lock(mutex_);
      top_up();
    }
    write_next();
    StartCall();
  }
  grpc::Status wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return done_; });
    return status_;
  }
  const std::vector<double>& latencies_us() const { return latencies_us_; }

 private:
  // Under the lock: queues new submits (or pending cancels) until the window is full.
  void top_up() {
    while (in_flight_ < window_ && !stopping_) {
      if (Clock::now() >= until_ || sent_.size() >= max_requests_) {
        stopping_ = true;
        break;
      }
      pb::SessionRequest& request = outbox_.emplace_back();
      request.set_request_id(sent_.size() + 1);
      if (!cancels_.empty()) {
        request.mutable_cancel()->set_order_id(cancels_.front());
        cancels_.pop_front();
      } else {
        auto& submit = *request.mutable_submit();
        submit.set_symbol("STOCK_A");
        submit.set_side(market::common::v1::SIDE_BUY);
        submit.set_type(pb::ORDER_TYPE_LIMIT);
        submit.set_price_ticks(price_);
        submit.set_quantity_lots(1);
        price_ = price_ == 1100 ? 1000 : price_ + 1;
      }
      sent_.push_back(Clock::now());
      ++in_flight_;
    }
  }

  // Starts the next write unless one is under way (gRPC takes one at a time).
  void write_next() {
    const pb::SessionRequest* next = nullptr;
    bool end = false;
    {
      std::lock_guard lock(mutex_);
      if (writing_) return;
      if (!outbox_.empty()) {
        next = &outbox_.front();
        sent_[next->request_id() - 1] = Clock::now();
        writing_ = true;
      } else if (stopping_ && in_flight_ == 0 && !writes_done_) {
        writes_done_ = true;
        end = true;
      }
    }
    if (next != nullptr) StartWrite(next);
    if (end) StartWritesDone();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mutex_);
      outbox_.pop_front();
      writing_ = false;
      if (!ok) stopping_ = true;
    }
    write_next();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    const auto now = Clock::now();
    {
      std::lock_guard lock(mutex_);
      if (event_.request_id() != 0) {
        latencies_us_.push_back(
            std::chrono::duration<double, std::micro>(now - sent_[event_.request_id() - 1])
                .count());
        if (event_.event().has_accepted()) cancels_.push_back(event_.event().accepted().order_id());
        if (event_.event().has_rejected()) {
          std::fprintf(stderr, "rejected: %s\n", event_.event().rejected().detail().c_str());
          stopping_ = true;
        }
        --in_flight_;
        top_up();
      }
    }
    write_next();
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(mutex_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }

  grpc::ClientContext context_;
  pb::SessionEvent event_;
  int window_;
  Clock::time_point until_;
  std::size_t max_requests_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<pb::SessionRequest> outbox_;  // front: being written
  bool writing_ = false;
  bool stopping_ = false;
  bool writes_done_ = false;
  bool done_ = false;
  grpc::Status status_;
  int in_flight_ = 0;
  std::int64_t price_ = 1000;
  std::vector<Clock::time_point> sent_;  // by request_id - 1: when its write started
  std::deque<std::uint64_t> cancels_;
  std::vector<double> latencies_us_;
};

struct Figures {
  std::size_t requests = 0;
  double seconds = 0;
  double p50 = 0, p99 = 0, p999 = 0;
};

Figures measure(const std::string& address, int sessions, int window, Clock::duration length,
                std::size_t max_requests) {
  auto stub = pb::Exchange::NewStub(mkt::runtime::make_channel(address, {"bench", "", 4 << 20}));
  std::vector<std::unique_ptr<SessionLoad>> loads;
  for (int s = 0; s < sessions; ++s) {
    loads.push_back(std::make_unique<SessionLoad>(*stub, s, window));
  }
  const auto start = Clock::now();
  for (auto& load : loads) load->start(start + length, max_requests);
  for (auto& load : loads) {
    if (const auto status = load->wait(); !status.ok()) {
      std::fprintf(stderr, "session ended: %s\n", status.error_message().c_str());
    }
  }
  Figures f;
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& load : loads) {
    all.insert(all.end(), load->latencies_us().begin(), load->latencies_us().end());
  }
  f.requests = all.size();
  if (all.empty()) return f;
  std::sort(all.begin(), all.end());
  auto at = [&](double q) {
    return all[static_cast<std::size_t>(q * static_cast<double>(all.size() - 1))];
  };
  f.p50 = at(0.5);
  f.p99 = at(0.99);
  f.p999 = at(0.999);
  return f;
}

// CPU seconds (user + system) the process has used so far.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void report(const Options& options, const std::string& sync) {
  const std::filesystem::path dir = std::filesystem::path(options.dir) / sync;
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / "journal");
  std::filesystem::remove(dir / "journal.manifest");
  {
    std::ofstream accounts(dir / "accounts");
    for (int a = 0; a < options.sessions; ++a) {
      accounts << "bench-" << a << " " << key_of(a) << "\n";
    }
  }
  mkt::testing::ChildProcess exchanged({EXCHANGED_BINARY, "--config", BENCH_SCENARIO, "--node",
                                        "ex-bench", "--journal", (dir / "journal").string(),
                                        "--journal-sync", sync, "--accounts",
                                        (dir / "accounts").string()});
  const auto line = exchanged.wait_for_line("listening on port ([0-9]+)", 20s);
  if (!line) {
    std::fprintf(stderr, "exchanged did not start:\n%s\n", exchanged.output().c_str());
    std::exit(1);
  }
  const std::string address = "127.0.0.1:" + (*line)[1];
  measure(address, 1, 1, 1s, 2000);  // warm up: connections, page cache, allocator

  const double cpu_before_ping = cpu_seconds(exchanged.pid());
  const Figures ping =
      measure(address, 1, 1, 60s, static_cast<std::size_t>(options.ping_pong_requests));
  std::printf(
      "journal %-5s  ping-pong  1 session x 1 in flight: %7zu acks in %5.2f s = %8.0f /s;"
      "  p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us\n",
      sync.c_str(), ping.requests, ping.seconds, static_cast<double>(ping.requests) / ping.seconds,
      ping.p50, ping.p99, ping.p999);
  const double cpu_before_load = cpu_seconds(exchanged.pid());
  const Figures load = measure(address, options.sessions, options.window,
                               std::chrono::seconds(options.seconds), SIZE_MAX);
  std::printf(
      "journal %-5s  sustained  %d sessions x %d in flight: %7zu acks in %5.2f s = %8.0f /s;"
      "  p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us\n",
      sync.c_str(), options.sessions, options.window, load.requests, load.seconds,
      static_cast<double>(load.requests) / load.seconds, load.p50, load.p99, load.p999);
  const double cpu_after_load = cpu_seconds(exchanged.pid());
  std::printf(
      "journal %-5s  exchanged's own CPU: %.1f us per ack in ping-pong, %.1f us per ack "
      "sustained (%.0f%% of one core)\n",
      sync.c_str(), (cpu_before_load - cpu_before_ping) * 1e6 / static_cast<double>(ping.requests),
      (cpu_after_load - cpu_before_load) * 1e6 / static_cast<double>(load.requests),
      100 * (cpu_after_load - cpu_before_load) / load.seconds);
  std::fflush(stdout);
  exchanged.terminate();
  std::filesystem::remove_all(dir);
}

// The floor: the same ping-pong over a gRPC bidi stream whose server only echoes (no strand, no
// venue, no journal), served from this process. What exchanged adds is the difference.
class EchoChat final : public mkt::test::v1::Echo::CallbackService {
  grpc::ServerBidiReactor<mkt::test::v1::SayRequest, mkt::test::v1::SayReply>* Chat(
      grpc::CallbackServerContext*) override {
    class Reactor final
        : public grpc::ServerBidiReactor<mkt::test::v1::SayRequest, mkt::test::v1::SayReply> {
     public:
      Reactor() { StartRead(&request_); }

     private:
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        reply_.set_text(request_.text());
        StartWrite(&reply_);
      }
      void OnWriteDone(bool) override { StartRead(&request_); }
      void OnDone() override { delete this; }
      mkt::test::v1::SayRequest request_;
      mkt::test::v1::SayReply reply_;
    };
    return new Reactor;
  }
};

void report_floor(int requests) {
  EchoChat service;
  mkt::runtime::RpcServer server({});
  server.add_service(&service);
  const auto port = server.start();
  if (!port) return;
  auto stub = mkt::test::v1::Echo::NewStub(
      mkt::runtime::make_channel("127.0.0.1:" + std::to_string(*port), {"bench", "", 4 << 20}));
  grpc::ClientContext context;
  auto stream = stub->Chat(&context);
  mkt::test::v1::SayRequest request;
  request.set_text(std::string(60, 'x'));  // about the size of a submit
  mkt::test::v1::SayReply reply;
  std::vector<double> latencies;
  for (int i = 0; i < requests + 2000; ++i) {
    const auto start = Clock::now();
    if (!stream->Write(request) || !stream->Read(&reply)) break;
    if (i >= 2000) {
      latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  }
  stream->WritesDone();
  (void)stream->Finish();
  server.shutdown(1s);
  if (latencies.empty()) return;
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))];
  };
  std::printf(
      "gRPC floor     ping-pong  bidi echo, no exchange:      %7zu round trips;"
      "                   p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us\n",
      latencies.size(), at(0.5), at(0.99), at(0.999));
}

int flag(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return std::stoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.sessions = flag(argc, argv, "--sessions", options.sessions);
  options.window = flag(argc, argv, "--window", options.window);
  options.seconds = flag(argc, argv, "--seconds", options.seconds);
  options.ping_pong_requests = flag(argc, argv, "--ping-pong", options.ping_pong_requests);
  std::random_device seed;
  options.dir = "/var/tmp/exchanged-bench-" + std::to_string(seed());
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--dir") options.dir = argv[i + 1];
  }
  std::printf(
      "exchanged order session on loopback: submit + cancel, each ack timed from write to "
      "read (%u cores)\n",
      std::thread::hardware_concurrency());
  report_floor(options.ping_pong_requests);
  for (const char* sync : {"fsync", "none"}) report(options, sync);
  std::filesystem::remove_all(options.dir);
  return 0;
}
