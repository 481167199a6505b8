// Checks the stream bridge with a real server and client over loopback on port 0: a server stream
// arrives whole and in order, a bidi stream echoes and ends when the client is done, a client that
// does not read is cut off with RESOURCE_EXHAUSTED once the bounded queue fills, a cancelled
// call runs on_close on the strand, after which sends are refused, and streams of batches merge
// what queued behind a write.

#include "mkt/runtime/stream.h"

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <future>
#include <set>
#include <thread>

#include "echo.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/client_stream.h"
#include "mkt/runtime/server.h"
#include "mkt/testing/eventually.h"
#include "mkt/testing/io_thread.h"

using namespace std::chrono_literals;
using mkt::runtime::Stream;
using mkt::test::v1::CountRequest;
using mkt::test::v1::SayReply;
using mkt::test::v1::SayRequest;

namespace {

using Strand = mkt::testing::IoThread::Strand;

class StreamService final : public mkt::test::v1::Echo::CallbackService {
 public:
  StreamService(Strand strand, std::size_t queue_max, std::size_t coalesce_bytes)
      : strand_(std::move(strand)),
        options_{.queued_messages_max = queue_max, .coalesce_bytes = coalesce_bytes} {}

  grpc::ServerWriteReactor<SayReply>* Count(grpc::CallbackServerContext*,
                                            const CountRequest* request) override {
    return mkt::runtime::serve_stream_on<SayReply>(
        strand_, options_,
        [this, count = request->count(), size = request->size()](auto stream) {
          for (int i = 0; i < count; ++i) {
            auto reply = std::make_shared<SayReply>();
            reply->set_text(std::to_string(i) + std::string(static_cast<std::size_t>(size), '.'));
            reply->add_lines(std::to_string(i));
            if (!stream->send(std::move(reply))) {
              refused_sends_ = i;
              break;
            }
          }
          stream->finish(grpc::Status::OK);
          last_ = stream;
        },
        [this] { closed_.set_value(strand_.running_in_this_thread()); });
  }

  grpc::ServerBidiReactor<SayRequest, SayReply>* Chat(grpc::CallbackServerContext*) override {
    return mkt::runtime::serve_bidi_on<SayRequest, SayReply>(
        strand_, options_, [this](auto stream) { last_ = stream; },
        [](Stream<SayReply>& stream, const SayRequest& request) {
          auto reply = std::make_shared<SayReply>();
          reply->set_text("echo " + request.text());
          *reply->mutable_lines() = request.lines();
          stream.send(std::move(reply));
        },
        [](Stream<SayReply>& stream) { stream.finish(grpc::Status::OK); },
        [this] { closed_.set_value(strand_.running_in_this_thread()); });
  }

  Strand strand_;
  mkt::runtime::StreamOptions options_;
  std::shared_ptr<Stream<SayReply>> last_;
  int refused_sends_ = -1;
  std::promise<bool> closed_;  // on_close ran, and whether on the strand
};

struct Fixture {
  mkt::testing::IoThread io;
  StreamService service;
  mkt::runtime::RpcServer server{{}};
  std::unique_ptr<mkt::test::v1::Echo::Stub> stub;

  explicit Fixture(std::size_t queue_max = 10'000, std::size_t coalesce_bytes = 0)
      : service(io.strand(), queue_max, coalesce_bytes) {
    server.add_service(&service);
    const auto port = server.start();
    REQUIRE(port.has_value());
    stub = mkt::test::v1::Echo::NewStub(
        mkt::runtime::make_channel("127.0.0.1:" + std::to_string(*port), {"tester", "", 4 << 20}));
  }
  ~Fixture() {
    server.shutdown(0ms);
    io.stop();
  }

  bool closed_on_strand() {
    auto future = service.closed_.get_future();
    REQUIRE(future.wait_for(10s) == std::future_status::ready);
    return future.get();
  }

  template <class Fn>
  auto on_strand(Fn fn) {
    return io.run(std::move(fn));
  }

  // A blocking Count call with a 10 s deadline: `replies` replies of `size` bytes of padding.
  std::unique_ptr<grpc::ClientReader<SayReply>> count(grpc::ClientContext& context, int replies,
                                                      int size = 0) {
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    CountRequest request;
    request.set_count(replies);
    request.set_size(size);
    return stub->Count(&context, request);
  }
};

}  // namespace

TEST_CASE("a server stream arrives whole and in order") {
  Fixture f;
  grpc::ClientContext context;
  auto reader = f.count(context, 500);
  SayReply reply;
  int n = 0;
  while (reader->Read(&reply)) {
    CHECK(reply.text() == std::to_string(n));
    ++n;
  }
  CHECK(reader->Finish().ok());
  CHECK(n == 500);
  CHECK(f.closed_on_strand());
}

TEST_CASE("a bidi stream echoes each request and ends when the client is done") {
  Fixture f;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = f.stub->Chat(&context);
  SayRequest request;
  SayReply reply;
  for (int i = 0; i < 20; ++i) {
    request.set_text(std::to_string(i));
    REQUIRE(stream->Write(request));
    REQUIRE(stream->Read(&reply));
    CHECK(reply.text() == "echo " + std::to_string(i));
  }
  stream->WritesDone();
  CHECK_FALSE(stream->Read(&reply));
  CHECK(stream->Finish().ok());
  CHECK(f.closed_on_strand());
}

TEST_CASE("a client that does not read is cut off when the queue is full") {
  Fixture f(8);
  grpc::ClientContext context;
  auto reader = f.count(context, 2000, 64 * 1024);  // well past gRPC's flow-control windows
  // The server queues everything at once on its strand. Writes complete meanwhile on gRPC's
  // threads until the transport's flow-control windows are full (a few 64 KiB messages), and then
  // the queue fills before we read.
  SayReply reply;
  int n = 0;
  while (reader->Read(&reply)) ++n;
  const grpc::Status status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message() == "the client reads too slowly: 8 messages queued");
  const int accepted = f.on_strand([&] { return f.service.refused_sends_; });
  CHECK(accepted >= 8);
  CHECK(accepted < 100);  // far fewer than the 2000 asked for: the queue bound held
  CHECK(n <= accepted);
}

TEST_CASE("a cancelled stream closes on the strand and refuses later sends") {
  Fixture f;
  auto context = std::make_unique<grpc::ClientContext>();
  auto stream = f.stub->Chat(context.get());
  SayRequest request;
  request.set_text("x");
  REQUIRE(stream->Write(request));
  SayReply reply;
  REQUIRE(stream->Read(&reply));
  context->TryCancel();
  CHECK(f.closed_on_strand());
  CHECK(f.on_strand([&] {
    return !f.service.last_->open() && !f.service.last_->send(std::make_shared<SayReply>());
  }));
  stream->Finish();
}

TEST_CASE("a stream of batches sends what queued behind a write as one message, in order") {
  Fixture f(10'000, 1000);
  grpc::ClientContext context;
  auto reader = f.count(context, 3000);
  // The strand queues all 3000 at once; each write takes what queued while the last was written.
  SayReply reply;
  std::vector<std::string> lines;
  int messages = 0;
  std::size_t largest = 0;
  while (reader->Read(&reply)) {
    ++messages;
    largest = std::max(largest, reply.ByteSizeLong());
    lines.insert(lines.end(), reply.lines().begin(), reply.lines().end());
  }
  CHECK(reader->Finish().ok());
  REQUIRE(lines.size() == 3000);
  int out_of_order = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) out_of_order += lines[i] != std::to_string(i);
  CHECK(out_of_order == 0);
  CHECK(messages < 3000);
  CHECK(largest <= 1000);
}

// The client side of the bridge: messages and the end arrive on the client's strand, in order.
namespace {

struct ClientSide {
  mkt::testing::IoThread io;
  std::vector<std::string> texts;  // on io's strand
  std::vector<std::string> lines;
  std::promise<grpc::Status> done;
  bool in_order_on_strand = true;

  mkt::runtime::StreamCallbacks<SayReply> callbacks() {
    return {.on_read =
                [this](const SayReply& reply) {
                  in_order_on_strand = in_order_on_strand && io.strand().running_in_this_thread();
                  texts.push_back(reply.text());
                  lines.insert(lines.end(), reply.lines().begin(), reply.lines().end());
                },
            .on_done = [this](const grpc::Status& status) { done.set_value(status); }};
  }
  grpc::Status wait() {
    auto future = done.get_future();
    REQUIRE(future.wait_for(10s) == std::future_status::ready);
    return future.get();
  }
};

auto no_metadata = [](grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + 10s);
};

}  // namespace

TEST_CASE("client bridge: a server stream's messages then its end, on the strand") {
  Fixture f;
  ClientSide client;
  CountRequest request;
  request.set_count(300);
  auto call = mkt::runtime::open_reader<CountRequest, SayReply>(
      client.io.strand(), request, no_metadata,
      [&](auto* c, auto* q, auto* r) { f.stub->async()->Count(c, q, r); }, client.callbacks());
  CHECK(client.wait().ok());
  client.io.run([&] {
    REQUIRE(client.texts.size() == 300);
    for (int i = 0; i < 300; ++i)
      CHECK(client.texts[static_cast<std::size_t>(i)] == std::to_string(i));
    CHECK(client.in_order_on_strand);
  });
  CHECK_FALSE(call->send(request));  // a reader takes no requests
}

TEST_CASE("client bridge: a bidi call echoes what is sent from many threads, then is cancelled") {
  Fixture f;
  ClientSide client;
  auto call = mkt::runtime::open_bidi<SayRequest, SayReply>(
      client.io.strand(), no_metadata, [&](auto* c, auto* r) { f.stub->async()->Chat(c, r); },
      client.callbacks());
  std::vector<std::thread> senders;
  std::atomic<int> refused{0};  // Catch2's checks are not for other threads: counted here
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        SayRequest request;
        request.set_text(std::to_string(t * 1000 + i));
        if (!call->send(request)) ++refused;
      }
    });
  }
  for (auto& s : senders) s.join();
  CHECK(refused == 0);
  // Every echo arrives; then a cancel ends the call, and sends are refused.
  CHECK(mkt::testing::eventually(
      [&] { return client.io.run([&] { return client.texts.size(); }) == 200; }, 10s));
  call->cancel();
  CHECK(client.wait().error_code() == grpc::StatusCode::CANCELLED);
  CHECK_FALSE(call->send(SayRequest{}));
  client.io.run([&] {
    std::set<std::string> unique(client.texts.begin(), client.texts.end());
    CHECK(unique.size() == 200);
    CHECK(unique.contains("echo 3049"));
    CHECK(client.in_order_on_strand);
  });
}

TEST_CASE("client bridge: a server that goes away ends the call with its status") {
  ClientSide client;
  std::shared_ptr<mkt::runtime::ClientCall<SayRequest>> call;
  {
    Fixture f;
    call = mkt::runtime::open_bidi<SayRequest, SayReply>(
        client.io.strand(), no_metadata, [&](auto* c, auto* r) { f.stub->async()->Chat(c, r); },
        client.callbacks());
    SayRequest request;
    request.set_text("hello");
    CHECK(call->send(request));
    CHECK(mkt::testing::eventually(
        [&] { return client.io.run([&] { return client.texts.size(); }) == 1; }, 10s));
  }  // the server shuts down
  CHECK_FALSE(client.wait().ok());
  CHECK_FALSE(call->send(SayRequest{}));
}

TEST_CASE("client bridge: a bidi call of batches sends what queued behind a write as one message") {
  Fixture f;  // echoes each request message as one reply: replies count the messages sent
  ClientSide client;
  auto call = mkt::runtime::open_bidi<SayRequest, SayReply>(
      client.io.strand(), no_metadata, [&](auto* c, auto* r) { f.stub->async()->Chat(c, r); },
      client.callbacks(), 1000);
  for (int i = 0; i < 500; ++i) {
    SayRequest request;
    request.add_lines(std::to_string(i));
    REQUIRE(call->send(request));
  }
  CHECK(mkt::testing::eventually(
      [&] { return client.io.run([&] { return client.lines.size(); }) == 500; }, 10s));
  call->cancel();
  CHECK(client.wait().error_code() == grpc::StatusCode::CANCELLED);
  client.io.run([&] {
    int out_of_order = 0;
    for (std::size_t i = 0; i < client.lines.size(); ++i) {
      out_of_order += client.lines[i] != std::to_string(i);
    }
    CHECK(out_of_order == 0);
    CHECK(client.texts.size() < 500);
  });
}
