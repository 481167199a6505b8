// Order-to-ack over the gRPC order session, on loopback, against a real exchanged process.
//
// Each request is timed from just before the client writes it to when its ack (accepted or
// cancelled, carrying its request_id) is read back: the journal write, matching, and both gRPC
// hops included. Traffic is submit-then-cancel: a limit order far from the market, cancelled as
// soon as its ack arrives, so the book stays small and every request is journalled.
//
//   ping-pong: one session, one request in flight: the latency of an idle venue;
//   unary: the same, with SubmitOrder and CancelOrder calls instead of a session;
//   sustained: N sessions (4 by default), each with W requests in flight, for S seconds: the
//              throughput, and the latency under that load. Twice: with one request per message,
//              and with the requests that queued while a message was written sent together in
//              the next (up to B, as agentd's sessions do). The exchange batches its acks alike.
//
// Both journal modes (fsync, none) run side by side, each against its own exchanged, with the
// journal in --dir (default: a new directory under /var/tmp, which is on disk, unlike a tmpfs).
// First, the floor: the same loads (one request per message) against a gRPC echo stream in this
// process, which is what gRPC itself costs on this machine. Each exchanged report runs again with
// mutual TLS (exchanged --tls-dir, the client as a run's operator; --no-tls skips it), so what
// TLS costs is read side by side. Clients and servers share the cores.
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
#include <utility>
#include <vector>

#include "echo.grpc.pb.h"
#include "market/exchange/v1/exchange.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/server.h"
#include "mkt/runtime/tls.h"
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
  int batch = 64;  // requests per message at most, in the coalescing run
  std::string dir;
  // Further exchanged binaries to measure beside this build's, in the same run (an A/B).
  std::vector<std::string> others;
  std::vector<std::string> syncs = {"fsync", "none"};
  // Every exchanged report again with mutual TLS on the order session (--no-tls: not).
  bool tls = true;
};

// How the bench's client connects: plaintext, or as the operator of a TLS run (who may act for
// every account) expecting the exchange's certificate.
mkt::runtime::ChannelConfig client_config(std::shared_ptr<const mkt::runtime::TlsIdentity> tls) {
  return {.node_id = "bench",
          .proxy_address = "",
          .max_receive_message_bytes = 4 << 20,
          .tls = std::move(tls),
          .peer = "ex-bench"};
}

std::string key_of(int account) {
  return "bench-key-" + std::to_string(account) + "-0123456789";
}

// A buy of 1 lot far below the market, at the next of 101 prices: it rests until cancelled.
void fill_submit(pb::SubmitOrderRequest& submit, std::int64_t& price) {
  submit.set_symbol("STOCK_A");
  submit.set_side(market::common::v1::SIDE_BUY);
  submit.set_type(pb::ORDER_TYPE_LIMIT);
  submit.set_price_ticks(price);
  submit.set_quantity_lots(1);
  price = price == 1100 ? 1000 : price + 1;
}

// The order session as a load: submits far from the market, each accepted order cancelled next.
// The request id rides in request_id; an event carrying it is the ack.
struct SessionProtocol {
  using Request = pb::SessionRequests;
  using Response = pb::SessionEvents;
  using Stub = pb::Exchange::Stub;
  static void open(Stub& stub, grpc::ClientContext& context, int account,
                   grpc::ClientBidiReactor<Request, Response>* reactor) {
    context.AddMetadata("x-api-key", key_of(account));
    stub.async()->OrderSession(&context, reactor);
  }
  // Adds request `id` to a message.
  void fill(Request& message, std::uint64_t id) {
    pb::SessionRequest& request = *message.add_requests();
    request.set_request_id(id);
    if (!cancels.empty()) {
      request.mutable_cancel()->set_order_id(cancels.front());
      cancels.pop_front();
      return;
    }
    fill_submit(*request.mutable_submit(), price);
  }
  // Calls ack(id) for each request a message acknowledges; false to stop.
  template <class Ack>
  bool take(const Response& message, Ack ack) {
    for (const pb::SessionEvent& event : message.events()) {
      if (event.event().has_accepted()) cancels.push_back(event.event().accepted().order_id());
      if (event.event().has_rejected()) {
        std::fprintf(stderr, "rejected: %s\n", event.event().rejected().detail().c_str());
        return false;
      }
      if (event.request_id() != 0) ack(event.request_id());
    }
    return true;
  }
  std::int64_t price = 1000;
  std::deque<std::uint64_t> cancels;
};

// The floor's protocol: the echo service's Chat, the request id in the text, about the size of a
// submit. One request per message.
struct EchoProtocol {
  using Request = mkt::test::v1::SayRequest;
  using Response = mkt::test::v1::SayReply;
  using Stub = mkt::test::v1::Echo::Stub;
  static void open(Stub& stub, grpc::ClientContext& context, int,
                   grpc::ClientBidiReactor<Request, Response>* reactor) {
    stub.async()->Chat(&context, reactor);
  }
  void fill(Request& request, std::uint64_t id) {
    auto text = std::to_string(id);
    text.resize(60, ' ');
    request.set_text(std::move(text));
  }
  template <class Ack>
  bool take(const Response& reply, Ack ack) {
    ack(std::stoull(reply.text()));
    return true;
  }
};

// One bidi stream on gRPC's callback API (no threads of its own): it keeps `window` requests in
// flight and times each from the write of its message to the answer that carries its id. New
// requests join the last queued message while it holds fewer than `batch` (no message waits for
// more: one is written as soon as the last write is done).
template <class Protocol>
class WindowLoad final
    : public grpc::ClientBidiReactor<typename Protocol::Request, typename Protocol::Response> {
  using Request = typename Protocol::Request;
  using Response = typename Protocol::Response;

 public:
  WindowLoad(typename Protocol::Stub& stub, int account, int window, int batch)
      : window_(window), batch_(batch) {
    Protocol::open(stub, context_, account, this);
  }

  // Runs until `until` or `max_requests` sent, then waits for the acks in flight.
  void start(Clock::time_point until, std::size_t max_requests) {
    until_ = until;
    max_requests_ = max_requests;
    this->StartRead(&answer_);
    {
      std::lock_guard lock(mutex_);
      top_up();
    }
    write_next();
    this->StartCall();
  }
  grpc::Status wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return done_; });
    return status_;
  }
  const std::vector<double>& latencies_us() const { return latencies_us_; }

 private:
  // Under the lock: queues new requests until the window is full.
  void top_up() {
    while (in_flight_ < window_ && !stopping_) {
      if (Clock::now() >= until_ || sent_.size() >= max_requests_) {
        stopping_ = true;
        break;
      }
      // The front is being written once a write has started; the others may take more requests.
      const std::size_t written = writing_ ? 1 : 0;
      if (outbox_.size() == written || outbox_.back().requests >= batch_) outbox_.emplace_back();
      protocol_.fill(outbox_.back().message, sent_.size() + 1);
      ++outbox_.back().requests;
      sent_.emplace_back();
      ++in_flight_;
    }
  }

  // Starts the next write unless one is under way (gRPC takes one at a time).
  void write_next() {
    const Request* next = nullptr;
    bool more = false;
    bool end = false;
    {
      std::lock_guard lock(mutex_);
      if (writing_) return;
      if (!outbox_.empty()) {
        next = &outbox_.front().message;
        more = outbox_.size() > 1;
        const auto now = Clock::now();
        for (int i = 0; i < outbox_.front().requests; ++i) sent_[written_++] = now;
        writing_ = true;
      } else if (stopping_ && in_flight_ == 0 && !writes_done_) {
        writes_done_ = true;
        end = true;
      }
    }
    // With more queued behind it, gRPC may hold this one to send them together.
    if (next != nullptr) {
      this->StartWrite(next, more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
    }
    if (end) this->StartWritesDone();
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
      const bool go_on = protocol_.take(answer_, [&](std::uint64_t id) {
        latencies_us_.push_back(
            std::chrono::duration<double, std::micro>(now - sent_[id - 1]).count());
        --in_flight_;
      });
      if (!go_on) stopping_ = true;
      top_up();
    }
    write_next();
    this->StartRead(&answer_);
  }

  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(mutex_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }

  grpc::ClientContext context_;
  Protocol protocol_;
  Response answer_;
  int window_;
  int batch_;
  Clock::time_point until_;
  std::size_t max_requests_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  struct Queued {
    Request message;
    int requests = 0;
  };
  std::deque<Queued> outbox_;  // front: being written once writing_; the newest requests, in order
  std::size_t written_ = 0;    // requests whose message has been written
  bool writing_ = false;
  bool stopping_ = false;
  bool writes_done_ = false;
  bool done_ = false;
  grpc::Status status_;
  int in_flight_ = 0;
  std::vector<Clock::time_point> sent_;  // by request id - 1: when its message's write started
  std::vector<double> latencies_us_;
};

struct Figures {
  std::size_t requests = 0;
  double seconds = 0;
  double p50 = 0, p99 = 0, p999 = 0;
};

// The figures of a run that took `seconds`, from each request's latency.
Figures figures_of(std::vector<double> all, double seconds) {
  Figures f;
  f.seconds = seconds;
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

template <class Protocol>
Figures measure(const std::string& address, const mkt::runtime::ChannelConfig& config, int sessions,
                int window, int batch, Clock::duration length, std::size_t max_requests) {
  auto channel = mkt::runtime::make_channel(address, config);
  typename Protocol::Stub stub(channel);
  std::vector<std::unique_ptr<WindowLoad<Protocol>>> loads;
  for (int s = 0; s < sessions; ++s) {
    loads.push_back(std::make_unique<WindowLoad<Protocol>>(stub, s, window, batch));
  }
  const auto start = Clock::now();
  for (auto& load : loads) load->start(start + length, max_requests);
  for (auto& load : loads) {
    if (const auto status = load->wait(); !status.ok()) {
      std::fprintf(stderr, "session ended: %s\n", status.error_message().c_str());
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& load : loads) {
    all.insert(all.end(), load->latencies_us().begin(), load->latencies_us().end());
  }
  return figures_of(std::move(all), seconds);
}

// Unary calls, one at a time from this thread: SubmitOrder, then CancelOrder of the order it
// accepted, each timed from its start to its answer.
Figures measure_unary(const std::string& address, const mkt::runtime::ChannelConfig& config,
                      std::size_t requests) {
  auto stub = pb::Exchange::NewStub(mkt::runtime::make_channel(address, config));
  std::vector<double> latencies;
  std::int64_t price = 1000;
  std::uint64_t to_cancel = 0;
  const auto start = Clock::now();
  while (latencies.size() < requests) {
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", key_of(0));
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    pb::OrderResponse response;
    const auto sent = Clock::now();
    grpc::Status status;
    if (to_cancel != 0) {
      pb::CancelOrderRequest cancel;
      cancel.set_order_id(std::exchange(to_cancel, 0));
      status = stub->CancelOrder(&context, cancel, &response);
    } else {
      pb::SubmitOrderRequest submit;
      fill_submit(submit, price);
      status = stub->SubmitOrder(&context, submit, &response);
    }
    const auto answered = Clock::now();
    if (!status.ok()) {
      std::fprintf(stderr, "unary call failed: %s\n", status.error_message().c_str());
      break;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(answered - sent).count());
    for (const pb::OrderEvent& event : response.events()) {
      if (event.has_accepted()) to_cancel = event.accepted().order_id();
    }
  }
  return figures_of(std::move(latencies),
                    std::chrono::duration<double>(Clock::now() - start).count());
}

// One line of figures; with the server's CPU seconds over the run, its CPU per ack too.
void print(const std::string& what, const std::string& mode, const Figures& f,
           double server_cpu_seconds = -1) {
  std::printf(
      "%-17s %-39s %7zu acks in %5.2f s = %8.0f /s;  p50 %7.1f us  p99 %7.1f us  p99.9 "
      "%7.1f us",
      what.c_str(), mode.c_str(), f.requests, f.seconds,
      static_cast<double>(f.requests) / f.seconds, f.p50, f.p99, f.p999);
  if (server_cpu_seconds >= 0) {
    std::printf(
        ";  exchanged CPU %.1f us/ack",
        server_cpu_seconds * 1e6 / static_cast<double>(std::max<std::size_t>(f.requests, 1)));
  }
  std::printf("\n");
  std::fflush(stdout);
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

const char* const ping_pong_mode = "ping-pong, 1 x 1 in flight:";
const char* const unary_mode = "unary calls, 1 in flight:";

std::string load_mode(const Options& options, int batch) {
  return std::to_string(options.sessions) + " sessions x " + std::to_string(options.window) + ", " +
         (batch == 1 ? "1" : "up to " + std::to_string(batch)) + " per message:";
}

void report(const Options& options, const std::string& sync, const std::string& binary,
            const std::string& label, bool tls) {
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
  std::vector<std::string> command{binary,
                                   "--config",
                                   BENCH_SCENARIO,
                                   "--node",
                                   "ex-bench",
                                   "--journal",
                                   (dir / "journal").string(),
                                   "--journal-sync",
                                   sync,
                                   "--accounts",
                                   (dir / "accounts").string()};
  std::shared_ptr<const mkt::runtime::TlsIdentity> identity;
  if (tls) {
    const auto certificates = dir / "tls";
    auto made = mkt::runtime::write_certificates(
        certificates, {{.node_id = "ex-bench", .role = "exchange"},
                       {.node_id = mkt::runtime::operator_account, .role = "operator"}});
    auto loaded = made ? mkt::runtime::load_identity(certificates, mkt::runtime::operator_account)
                       : std::unexpected(made.error());
    if (!loaded) {
      std::fprintf(stderr, "TLS certificates: %s\n", loaded.error().c_str());
      std::exit(1);
    }
    identity = std::make_shared<const mkt::runtime::TlsIdentity>(std::move(*loaded));
    command.push_back("--tls-dir=" + certificates.string());
  }
  const auto config = client_config(identity);
  mkt::testing::ChildProcess exchanged(command);
  const auto line = exchanged.wait_for_line("listening on port ([0-9]+)", 20s);
  if (!line) {
    std::fprintf(stderr, "exchanged did not start:\n%s\n", exchanged.output().c_str());
    std::exit(1);
  }
  const std::string address = "127.0.0.1:" + (*line)[1];
  measure<SessionProtocol>(address, config, 1, 1, 1, 1s, 2000);  // warm up: connections, page
                                                                 // cache, malloc

  const std::string what = "journal " + sync + label + (tls ? ", TLS" : "");
  auto run = [&](const std::string& mode, auto measure_it) {
    const double cpu_before = cpu_seconds(exchanged.pid());
    const Figures f = measure_it();
    print(what, mode, f, cpu_seconds(exchanged.pid()) - cpu_before);
  };
  const auto ping_pongs = static_cast<std::size_t>(options.ping_pong_requests);
  run(ping_pong_mode,
      [&] { return measure<SessionProtocol>(address, config, 1, 1, 1, 60s, ping_pongs); });
  run(unary_mode, [&] { return measure_unary(address, config, ping_pongs); });
  for (const int batch : {1, options.batch}) {
    run(load_mode(options, batch), [&] {
      return measure<SessionProtocol>(address, config, options.sessions, options.window, batch,
                                      std::chrono::seconds(options.seconds), SIZE_MAX);
    });
  }
  exchanged.terminate();
  std::filesystem::remove_all(dir);
}

// The floor: the same loads over a gRPC bidi stream whose server only echoes (no executor, no
// venue, no journal), served from this process. What exchanged adds is the difference.
class EchoChat final : public mkt::test::v1::Echo::CallbackService {
  using Request = mkt::test::v1::SayRequest;
  using Reply = mkt::test::v1::SayReply;
  grpc::ServerBidiReactor<Request, Reply>* Chat(grpc::CallbackServerContext*) override {
    // Reads on while replies are written, one write at a time with the same buffer hint as
    // exchanged's streams: the echo pipelines as exchanged does.
    class Reactor final : public grpc::ServerBidiReactor<Request, Reply> {
     public:
      Reactor() { StartRead(&request_); }

     private:
      void OnReadDone(bool ok) override {
        {
          std::lock_guard lock(mutex_);
          if (ok) {
            replies_.emplace_back().set_text(request_.text());
          } else {
            reading_done_ = true;
          }
        }
        next();
        if (ok) StartRead(&request_);
      }
      void OnWriteDone(bool) override {
        {
          std::lock_guard lock(mutex_);
          replies_.pop_front();
          writing_ = false;
        }
        next();
      }
      void next() {
        const Reply* write = nullptr;
        bool more = false;
        bool finish = false;
        {
          std::lock_guard lock(mutex_);
          if (writing_ || finished_) return;
          if (!replies_.empty()) {
            write = &replies_.front();
            more = replies_.size() > 1;
            writing_ = true;
          } else if (reading_done_) {
            finish = finished_ = true;
          }
        }
        if (write != nullptr) {
          StartWrite(write, more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
        }
        if (finish) Finish(grpc::Status::OK);
      }
      void OnDone() override { delete this; }
      Request request_;
      std::mutex mutex_;
      std::deque<Reply> replies_;  // front: being written
      bool writing_ = false;
      bool reading_done_ = false;
      bool finished_ = false;
    };
    return new Reactor;
  }
};

void report_floor(const Options& options) {
  EchoChat service;
  mkt::runtime::RpcServer server({});
  server.add_service(&service);
  const auto port = server.start();
  if (!port) return;
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  const auto config = client_config(nullptr);
  measure<EchoProtocol>(address, config, 1, 1, 1, 1s, 2000);  // warm up
  print("gRPC floor (echo)", ping_pong_mode,
        measure<EchoProtocol>(address, config, 1, 1, 1, 60s,
                              static_cast<std::size_t>(options.ping_pong_requests)));
  print("gRPC floor (echo)", load_mode(options, 1),
        measure<EchoProtocol>(address, config, options.sessions, options.window, 1,
                              std::chrono::seconds(options.seconds), SIZE_MAX));
  server.shutdown(1s);
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
  options.batch = std::max(flag(argc, argv, "--batch", options.batch), 1);
  std::random_device seed;
  options.dir = "/var/tmp/exchanged-bench-" + std::to_string(seed());
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--dir") options.dir = argv[i + 1];
    if (std::string(argv[i]) == "--also") options.others.push_back(argv[i + 1]);
    if (std::string(argv[i]) == "--sync") options.syncs = {argv[i + 1]};
  }
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--no-tls") options.tls = false;
  }
  std::printf(
      "exchanged order session on loopback: submit + cancel, each ack timed from write to "
      "read (%u cores)\n",
      std::thread::hardware_concurrency());
  report_floor(options);
  for (const std::string& sync : options.syncs) {
    report(options, sync, EXCHANGED_BINARY, "", false);
    if (options.tls) report(options, sync, EXCHANGED_BINARY, "", true);
    for (std::size_t n = 0; n < options.others.size(); ++n) {
      report(options, sync, options.others[n], " #" + std::to_string(n + 1), false);
    }
  }
  std::filesystem::remove_all(options.dir);
  return 0;
}
