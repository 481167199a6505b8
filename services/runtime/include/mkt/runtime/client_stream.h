#pragma once
// The gRPC-to-Asio bridge for client streams: a bidirectional call (open_bidi) or a
// server-streaming one (open_reader) whose messages and end are delivered on an executor.
//
// The owner keeps the ClientCall handle: send() queues a request (one write is in flight at a
// time, as gRPC requires), cancel() ends the call. on_read runs for each message and on_done runs
// exactly once, last, with the call's status. Both are posted to the executor in the order gRPC
// produced them, so the executor must run posts in order (a strand, or a one-thread io_context).
// The handle may outlive the call (send() then returns false) and the call may outlive the handle
// (it runs to its end; cancel first to stop it). A bidi call of batches may coalesce its requests
// as a server stream does (stream.h, StreamOptions::coalesce_bytes): what queued while a write was
// under way goes out as one message.

#include <grpcpp/grpcpp.h>

#include <boost/asio/post.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "mkt/runtime/client_calls.h"
#include "mkt/runtime/coalesce.h"

namespace mkt::runtime {

template <class Response>
struct StreamCallbacks {
  std::function<void(const Response&)> on_read;
  std::function<void(const grpc::Status&)> on_done;
};

namespace detail {

// Posts a message that was read (moved out of `response`, which is left empty for the next read).
template <class Executor, class Response>
void deliver(const Executor& executor, const StreamCallbacks<Response>& callbacks,
             Response& response) {
  auto message = std::make_shared<Response>(std::move(response));
  response.Clear();
  boost::asio::post(executor, [on_read = callbacks.on_read, message] {
    if (on_read) on_read(*message);
  });
}

// Posts the end of a call, the reactor's last act: it takes the reactor's executor and callbacks
// and deletes the reactor first, so that nothing of it is left when on_done runs.
template <class Reactor>
void finish(Reactor* reactor, const grpc::Status& status) {
  std::optional executor = std::move(reactor->executor_);
  auto on_done = std::move(reactor->callbacks_.on_done);
  delete reactor;
  post_end(executor, [on_done = std::move(on_done), status] {
    if (on_done) on_done(status);
  });
}

template <class Request>
class Sender {
 public:
  virtual ~Sender() = default;
  // Called under the shared mutex: queues a request. Returns the request whose write the caller
  // must start (outside the mutex), or null when a write is already under way or the call ended.
  virtual const Request* queue_locked(Request request, bool& accepted) = 0;
  virtual void write(const Request* request) = 0;
};

// What the handle and the reactor share. The reactor is null once gRPC is done with the call.
template <class Request>
struct CallShared {
  std::mutex mutex;
  Sender<Request>* sender = nullptr;
  grpc::ClientContext context;
};

template <class Request, class Response, class Executor>
class BidiCall final : public grpc::ClientBidiReactor<Request, Response>, public Sender<Request> {
 public:
  BidiCall(Executor executor, std::shared_ptr<CallShared<Request>> shared,
           StreamCallbacks<Response> callbacks, std::size_t coalesce_bytes)
      : executor_(std::move(executor)),
        shared_(std::move(shared)),
        callbacks_(std::move(callbacks)),
        coalesce_bytes_(coalesce_bytes) {}

  void start() {
    // The hold keeps the call open for writes until reading has ended and no write is in flight.
    this->AddHold();
    this->StartRead(&response_);
    this->StartCall();
  }

  const Request* queue_locked(Request request, bool& accepted) override {
    accepted = !closed_;
    if (closed_) return nullptr;
    queue_.push_back(std::move(request));  // a deque: the front's address stays put
    if (writing_) return nullptr;
    writing_ = true;
    return &queue_.front();
  }

  void write(const Request* request) override { this->StartWrite(request); }

 private:
  void OnReadDone(bool ok) override {
    if (ok) {
      deliver(executor_, callbacks_, response_);
      this->StartRead(&response_);
      return;
    }
    bool release = false;
    {
      std::lock_guard lock(shared_->mutex);
      closed_ = true;
      release = !writing_ && !released_;
      released_ = released_ || release;
    }
    if (release) this->RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    const Request* next = nullptr;
    bool more = false;
    bool release = false;
    {
      std::lock_guard lock(shared_->mutex);
      queue_.pop_front();
      if (!ok) {
        closed_ = true;
        queue_.clear();
      }
      if (!closed_ && !queue_.empty()) {
        coalesce_locked();
        next = &queue_.front();
        more = queue_.size() > 1;
      } else {
        writing_ = false;
        release = closed_ && !released_;
        released_ = released_ || release;
      }
    }
    // As on the server's streams (stream.h): with more queued behind it, gRPC may hold this one
    // and send them together. The first write of a burst (write()) has nothing behind it yet.
    if (next != nullptr) {
      this->StartWrite(next, more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
    }
    if (release) this->RemoveHold();
  }

  // Merges the requests queued behind the front into it while they fit in coalesce_bytes_ (the
  // requests are this call's own, and none is being written).
  void coalesce_locked() {
    const std::size_t merged =
        coalescible(queue_, coalesce_bytes_, [](const Request& r) -> const Request& { return r; });
    for (std::size_t i = 1; i < merged; ++i) queue_.front().MergeFrom(queue_[i]);
    queue_.erase(queue_.begin() + 1, queue_.begin() + static_cast<std::ptrdiff_t>(merged));
  }

  void OnDone(const grpc::Status& status) override {
    {
      std::lock_guard lock(shared_->mutex);
      shared_->sender = nullptr;
    }
    finish(this, status);
  }
  template <class Reactor>
  friend void finish(Reactor* reactor, const grpc::Status& status);

  Executor executor_;
  std::shared_ptr<CallShared<Request>> shared_;
  StreamCallbacks<Response> callbacks_;
  Response response_;
  std::size_t coalesce_bytes_;
  std::deque<Request> queue_;  // front: the write in flight
  bool writing_ = false;
  bool closed_ = false;
  bool released_ = false;
};

template <class Request, class Response, class Executor>
class ReaderCall final : public grpc::ClientReadReactor<Response> {
 public:
  // It keeps the shared state, and so the ClientContext, until gRPC is done with the call.
  ReaderCall(Executor executor, std::shared_ptr<CallShared<Request>> shared,
             StreamCallbacks<Response> callbacks)
      : executor_(std::move(executor)),
        shared_(std::move(shared)),
        callbacks_(std::move(callbacks)) {}

  void start() {
    this->StartRead(&response_);
    this->StartCall();
  }

 private:
  void OnReadDone(bool ok) override {
    if (!ok) return;
    deliver(executor_, callbacks_, response_);
    this->StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override { finish(this, status); }
  template <class Reactor>
  friend void finish(Reactor* reactor, const grpc::Status& status);

  Executor executor_;
  std::shared_ptr<CallShared<Request>> shared_;
  StreamCallbacks<Response> callbacks_;
  Response response_;
};

}  // namespace detail

// The owner's side of a client call.
template <class Request>
class ClientCall {
 public:
  explicit ClientCall(std::shared_ptr<detail::CallShared<Request>> shared)
      : shared_(std::move(shared)) {}

  // Queues a request; false once the call is ending or over (a reader call always says false).
  bool send(Request request) {
    detail::Sender<Request>* sender = nullptr;
    const Request* write = nullptr;
    bool accepted = false;
    {
      std::lock_guard lock(shared_->mutex);
      if (shared_->sender == nullptr) return false;
      sender = shared_->sender;
      write = sender->queue_locked(std::move(request), accepted);
    }
    // The write is this thread's to start; the call cannot end while a write is in flight.
    if (write != nullptr) sender->write(write);
    return accepted;
  }
  // Ends the call; on_done follows with CANCELLED (unless it had ended already).
  void cancel() { shared_->context.TryCancel(); }
  grpc::ClientContext& context() { return shared_->context; }

 private:
  std::shared_ptr<detail::CallShared<Request>> shared_;
};

// Opens a bidirectional call. `prepare` sets metadata and a deadline on the context before the
// call starts; `start(context, reactor)` is the stub's async method, for example
//   [&](auto* c, auto* r) { stub->async()->OrderSession(c, r); }
// Queued requests are merged into one write while they fit in `coalesce_bytes` (0: each alone);
// only for request types made for it, as StreamOptions::coalesce_bytes says.
template <class Request, class Response, class Executor, class Prepare, class Start>
std::shared_ptr<ClientCall<Request>> open_bidi(Executor executor, Prepare prepare, Start start,
                                               StreamCallbacks<Response> callbacks,
                                               std::size_t coalesce_bytes = 0) {
  auto shared = std::make_shared<detail::CallShared<Request>>();
  prepare(shared->context);
  auto* call = new detail::BidiCall<Request, Response, Executor>(
      std::move(executor), shared, std::move(callbacks), coalesce_bytes);
  shared->sender = call;
  ClientCalls::instance().started();
  start(&shared->context, call);
  call->start();
  return std::make_shared<ClientCall<Request>>(std::move(shared));
}

// Opens a server-streaming call: `start(context, request, reactor)`, for example
//   [&](auto* c, auto* q, auto* r) { stub->async()->StreamMarketData(c, q, r); }
// gRPC serialises the request when the call starts, before this returns.
template <class Request, class Response, class Executor, class Prepare, class Start>
std::shared_ptr<ClientCall<Request>> open_reader(Executor executor, Request request,
                                                 Prepare prepare, Start start,
                                                 StreamCallbacks<Response> callbacks) {
  auto shared = std::make_shared<detail::CallShared<Request>>();
  prepare(shared->context);
  auto* call = new detail::ReaderCall<Request, Response, Executor>(std::move(executor), shared,
                                                                   std::move(callbacks));
  ClientCalls::instance().started();
  start(&shared->context, &request, call);
  call->start();
  return std::make_shared<ClientCall<Request>>(std::move(shared));
}

}  // namespace mkt::runtime
