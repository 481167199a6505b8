#pragma once
// The gRPC-to-Asio bridge for unary calls, server and client side.
//
// Server: a callback-API method returns serve_on(strand, context, request, response, handler).
// The handler runs on the strand with a copy of the request and a Responder; it may answer at once
// or later (after a commit, say) by calling responder.finish() from the strand. If the client
// cancels or its deadline passes first, the call is finished with CANCELLED at once (so server
// shutdown never waits for a handler that forgot) and a later finish() does nothing.
//
// Client: async_unary(executor, timeout, start, done) makes a call with a deadline (there is no
// call without one) and runs done(status, response) on the executor.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mkt/runtime/client_calls.h"
#include "mkt/runtime/serial.h"

namespace mkt::runtime {

// Metadata pairs, such as {"x-leader-id", "val-1"}.
using Metadata = std::vector<std::pair<std::string, std::string>>;

namespace detail {

// What both sides of a server call may read from any thread, and may outlive the reactor.
struct CallFlags {
  std::atomic<bool> finished{false};  // whoever sets it first answers the call
  std::atomic<bool> cancelled{false};
};

// One unary call on the server: owned by gRPC, deleted in OnDone.
template <class Response>
class UnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  UnaryReactor(grpc::CallbackServerContext* context, Response* out)
      : context_(context), out_(out) {}

  // Answers the call. Only whoever flips the finished flag (Responder::finish or OnCancel) may
  // call this: gRPC deletes the reactor after Finish, so the flag is the ownership of that step.
  void complete(grpc::Status status, Response&& response, const Metadata& trailing = {}) {
    for (const auto& [key, value] : trailing) context_->AddTrailingMetadata(key, value);
    if (status.ok()) *out_ = std::move(response);
    Finish(std::move(status));
  }
  const std::shared_ptr<CallFlags>& flags() const { return flags_; }

 private:
  void OnCancel() override {
    flags_->cancelled.store(true);
    if (!flags_->finished.exchange(true)) {
      complete(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"), Response{});
    }
  }
  void OnDone() override { delete this; }

  grpc::CallbackServerContext* context_;
  Response* out_;
  std::shared_ptr<CallFlags> flags_ = std::make_shared<CallFlags>();
};

}  // namespace detail

// The answer side of one server call. Move-only; dropping it unanswered answers INTERNAL.
template <class Response>
class Responder {
 public:
  // `flags` is the reactor's, taken while it was surely alive: by the time the handler runs, a
  // cancelled call's reactor may be gone already, and only the flags say so.
  Responder(detail::UnaryReactor<Response>* reactor, std::shared_ptr<detail::CallFlags> flags)
      : reactor_(reactor), flags_(std::move(flags)) {}
  Responder(Responder&& other) noexcept
      : reactor_(std::exchange(other.reactor_, nullptr)), flags_(std::move(other.flags_)) {}
  Responder& operator=(Responder&&) = delete;
  Responder(const Responder&) = delete;
  // finish() does nothing when the call was already answered (or this was moved from).
  ~Responder() { finish(grpc::Status(grpc::StatusCode::INTERNAL, "the handler dropped the call")); }

  // Answers the call, with trailing metadata if given. Returns false if it was already finished
  // (cancelled by the client).
  bool finish(grpc::Status status, Response response = {}, const Metadata& trailing = {}) {
    // Winning the flag keeps the reactor alive until complete() calls Finish; losing it means it
    // may already be gone, so it is not touched.
    if (!reactor_ || flags_->finished.exchange(true)) return false;
    reactor_->complete(std::move(status), std::move(response), trailing);
    return true;
  }
  // True once the client cancelled or its deadline passed: stop working on the answer.
  bool cancelled() const { return flags_->cancelled.load(); }

 private:
  detail::UnaryReactor<Response>* reactor_;
  std::shared_ptr<detail::CallFlags> flags_;
};

// The value of a call's metadata `key` ("" when it has none), such as a caller's credential. On
// gRPC's thread, before serve_on: the context is not safe to read on the strand.
inline std::string client_metadata(const grpc::CallbackServerContext& context,
                                   std::string_view key) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// Answers a call at once with `status`, on gRPC's thread (a refusal before any work): return it
// from the service method.
inline grpc::ServerUnaryReactor* answer_now(grpc::CallbackServerContext* context,
                                            const grpc::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Runs handler(const Request&, Responder<Response>) on `executor` (a strand, or a Serial, which may
// run it in place: then the handler may answer before this returns, as gRPC allows). Call from a
// callback service method and return its result.
template <class Executor, class Request, class Response, class Handler>
grpc::ServerUnaryReactor* serve_on(const Executor& executor, grpc::CallbackServerContext* context,
                                   const Request* request, Response* response, Handler handler) {
  auto* reactor = new detail::UnaryReactor<Response>(context, response);
  run_here_or_post(executor, [reactor, flags = reactor->flags(), copy = *request,
                              handler = std::move(handler)]() mutable {
    handler(static_cast<const Request&>(copy), Responder<Response>(reactor, std::move(flags)));
  });
  return reactor;
}

// A client call in flight; cancel() ends it with CANCELLED.
class UnaryCall {
 public:
  void cancel() { context_.TryCancel(); }
  grpc::ClientContext& context() { return context_; }

 private:
  grpc::ClientContext context_;
};

struct CallOptions {
  // Required: every call has a deadline.
  std::chrono::milliseconds timeout;
  // Metadata to send, such as {"x-api-key", key}.
  Metadata metadata = {};
};

// Starts a unary call. `start(grpc::ClientContext*, Response*, std::function<void(grpc::Status)>)`
// issues it on a stub, e.g. [&](auto* ctx, auto* out, auto cb) { stub->async()->Check(ctx, &req,
// out, std::move(cb)); } (the request must live until start returns; gRPC copies it). done(status,
// response) runs on `executor`.
template <class Response, class Executor, class Start, class Done>
std::shared_ptr<UnaryCall> async_unary(const Executor& executor, const CallOptions& options,
                                       Start start, Done done) {
  struct State {
    UnaryCall call;
    Response response;
  };
  auto state = std::make_shared<State>();
  state->call.context().set_deadline(std::chrono::system_clock::now() + options.timeout);
  for (const auto& [key, value] : options.metadata) state->call.context().AddMetadata(key, value);
  // The handle shares the state's lifetime, so cancel() is safe until the callback has run.
  std::shared_ptr<UnaryCall> handle(state, &state->call);
  ClientCalls::instance().started();
  start(&state->call.context(), &state->response,
        std::function<void(grpc::Status)>([state, executor = std::optional<Executor>(executor),
                                           done = std::move(done)](grpc::Status status) mutable {
          // The executor leaves with this post (client_calls.h); gRPC destroys this callback
          // later, with nothing of the executor left in it.
          detail::post_end(executor,
                           [state, status = std::move(status), done = std::move(done)]() mutable {
                             done(std::move(status), std::move(state->response));
                           });
        }));
  return handle;
}

}  // namespace mkt::runtime
