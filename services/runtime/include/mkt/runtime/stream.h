#pragma once
// The gRPC-to-Asio bridge for server streams: server-streaming (serve_stream_on) and
// bidirectional (serve_bidi_on) calls whose state lives on a strand.
//
// The executor is a strand, or a runtime::Serial, on which a bidirectional call's reads run in
// place on gRPC's thread while the Serial is idle (serial.h).
//
// The owner gets a Stream<Message> handle on the strand and sends through it; messages are shared
// pointers, so one market data message can go to many subscribers without a copy. A stream of
// batches (a message type that is one repeated field of small items) may coalesce: what queued
// while a write was under way goes out as one message. Each stream has a bounded write queue: a
// client that does not keep up is finished with RESOURCE_EXHAUSTED instead of growing memory. Every
// callback (on_read, on_close) runs on the strand, and on_close runs exactly once, after which the
// handle is closed and sends do nothing. Only the strand may touch a Stream.
//
// Coalescing adds no wait: a write starts as soon as the last one is done, with whatever is queued
// then. An idle stream sends each message alone at once; a busy one pays gRPC's per-message cost
// once per batch.

#include <grpcpp/grpcpp.h>

#include <boost/asio/post.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mkt/runtime/coalesce.h"
#include "mkt/runtime/serial.h"

namespace mkt::runtime {

struct StreamOptions {
  std::size_t queued_messages_max = 10'000;
  // What a full queue does: finish the stream with RESOURCE_EXHAUSTED (the default), or drop the
  // message and keep the stream (for streams whose readers can tell, by a gap in a sequence).
  bool drop_when_full = false;
  // Queued messages go out as one write while together they stay within this many bytes, merged
  // with protobuf's MergeFrom (repeated fields concatenate, singular ones take the last message's
  // value). Only for message types made for it: a batch of items, whose merge is the batch of all
  // their items. The queue still counts the messages sent. 0: each message is written alone.
  std::size_t coalesce_bytes = 0;
};

namespace detail {
template <class Message>
class StreamCore {
 public:
  virtual ~StreamCore() = default;
  virtual bool send(std::shared_ptr<const Message> message) = 0;
  virtual void finish(grpc::Status status) = 0;
  virtual bool accepting() const = 0;
};
}  // namespace detail

template <class Message>
class Stream {
 public:
  // Queues a message. False if the stream is closed or finishing, or the queue was full (the
  // stream then finishes with RESOURCE_EXHAUSTED, or drops the message: StreamOptions).
  bool send(std::shared_ptr<const Message> message) {
    return core_ != nullptr && core_->send(std::move(message));
  }
  // Ends the stream after the queued messages are written. An OK status ends it cleanly.
  void finish(grpc::Status status) {
    if (core_ != nullptr) core_->finish(std::move(status));
  }
  // False once the stream is finishing or done.
  bool open() const { return core_ != nullptr && core_->accepting(); }

  detail::StreamCore<Message>* core_ = nullptr;  // null once the call is done
};

namespace detail {

// The write side shared by both kinds of stream. Base is grpc::ServerWriteReactor<Message> or
// grpc::ServerBidiReactor<Request, Message>. The owner's calls (send, finish) come from the strand
// and gRPC's write completions from its own threads; the queue between them is under a mutex, so
// the next write starts straight from the completion of the last, without a trip through the
// strand (one write is in flight at a time, as gRPC requires). gRPC calls OnDone last; it posts to
// the strand, which runs posts in order, so the object is deleted after every other posted
// callback has run.
template <class Base, class Message, class Executor>
class WriteCore : public Base, public StreamCore<Message> {
 public:
  WriteCore(Executor executor, StreamOptions options, std::function<void()> on_close)
      : executor_(std::move(executor)),
        options_(options),
        on_close_(std::move(on_close)),
        handle_(std::make_shared<Stream<Message>>()) {
    handle_->core_ = this;
  }

  const std::shared_ptr<Stream<Message>>& handle() const { return handle_; }

  bool send(std::shared_ptr<const Message> message) override {
    Step step;
    {
      std::lock_guard lock(mutex_);
      if (status_) return false;
      if (queue_.size() >= options_.queued_messages_max && options_.drop_when_full) {
        return false;
      }
      if (queue_.size() >= options_.queued_messages_max) {
        abort_locked(grpc::Status(
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            "the client reads too slowly: " + std::to_string(options_.queued_messages_max) +
                " messages queued"));
        step = next_locked();
      } else {
        queue_.push_back(std::move(message));
        step = next_locked();
        step.accepted = true;
      }
    }
    take(step);
    return step.accepted;
  }

  void finish(grpc::Status status) override {
    Step step;
    {
      std::lock_guard lock(mutex_);
      if (status_) return;
      status_ = std::move(status);
      step = next_locked();
    }
    take(step);
  }

  bool accepting() const override {
    std::lock_guard lock(mutex_);
    return !status_;
  }

 protected:
  void OnWriteDone(bool ok) override {
    Step step;
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
      in_flight_ = 0;
      if (!ok) abort_locked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      step = next_locked();
    }
    take(step);
  }

  void OnCancel() override {
    Step step;
    {
      std::lock_guard lock(mutex_);
      abort_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      step = next_locked();
    }
    take(step);
  }

  void OnDone() override {
    boost::asio::post(executor_, [this] {
      handle_->core_ = nullptr;
      if (on_close_) on_close_();
      delete this;
    });
  }

  Executor executor_;

 private:
  // What to do after releasing the lock: gRPC is not called under it.
  struct Step {
    const Message* write = nullptr;
    bool merge = false;  // `write` is to be merged_, made of batch_
    bool more = false;   // more messages queued behind `write`
    std::optional<grpc::Status> finish;
    bool accepted = false;
  };

  // Drops what is queued (but the write in flight) and finishes.
  void abort_locked(grpc::Status status) {
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_), queue_.end());
    if (!status_) status_ = std::move(status);
  }

  Step next_locked() {
    Step step;
    if (writing_ || finished_) return step;
    if (!queue_.empty()) {
      writing_ = true;
      in_flight_ = coalescible(queue_, options_.coalesce_bytes,
                               [](const auto& message) -> const Message& { return *message; });
      if (in_flight_ == 1) {
        step.write = queue_.front().get();
      } else {
        // Merged outside the lock; only the thread that starts a write touches batch_ and merged_.
        batch_.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
        step.write = &merged_;
        step.merge = true;
      }
      step.more = queue_.size() > in_flight_;
    } else if (status_) {
      finished_ = true;
      step.finish = *status_;
    }
    return step;
  }

  void take(const Step& step) {
    if (step.merge) {
      merged_ = *batch_.front();
      for (std::size_t i = 1; i < batch_.size(); ++i) merged_.MergeFrom(*batch_[i]);
      batch_.clear();
    }
    // With more queued behind it, gRPC may hold this message and send them together: fewer
    // writes to the socket under load, and no wait when the queue is empty.
    if (step.write != nullptr) {
      this->StartWrite(step.write,
                       step.more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
    }
    if (step.finish) this->Finish(*step.finish);
  }

  StreamOptions options_;
  std::function<void()> on_close_;
  std::shared_ptr<Stream<Message>> handle_;
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const Message>> queue_;  // front: the write in flight
  std::size_t in_flight_ = 0;  // how many of the queue's front messages the write in flight holds
  std::vector<std::shared_ptr<const Message>> batch_;  // the messages merged_ is made of
  Message merged_;
  std::optional<grpc::Status> status_;
  bool writing_ = false;
  bool finished_ = false;
};

template <class Message, class Executor>
class WriteReactor final : public WriteCore<grpc::ServerWriteReactor<Message>, Message, Executor> {
  using WriteCore<grpc::ServerWriteReactor<Message>, Message, Executor>::WriteCore;
};

template <class Request, class Message, class Executor>
class BidiReactor final
    : public WriteCore<grpc::ServerBidiReactor<Request, Message>, Message, Executor> {
  using Core = WriteCore<grpc::ServerBidiReactor<Request, Message>, Message, Executor>;

 public:
  using OnRead = std::function<void(Stream<Message>&, const Request&)>;
  using OnReadEnd = std::function<void(Stream<Message>&)>;

  // on_open is posted before the first read starts, so it runs before any on_read.
  BidiReactor(Executor executor, StreamOptions options,
              std::function<void(std::shared_ptr<Stream<Message>>)> on_open, OnRead on_read,
              OnReadEnd on_read_end, std::function<void()> on_close)
      : Core(std::move(executor), options, std::move(on_close)),
        on_read_(std::move(on_read)),
        on_read_end_(std::move(on_read_end)) {
    boost::asio::post(this->executor_,
                      [handle = this->handle(), on_open = std::move(on_open)] { on_open(handle); });
    this->StartRead(&request_);
  }

 private:
  void OnReadDone(bool ok) override {
    if (!ok) {
      run_here_or_post(this->executor_, [this] {
        if (on_read_end_) on_read_end_(*this->handle());
      });
      return;
    }
    // Moved, not copied (a request may be a batch); request_ is emptied for the next read, which
    // starts once this one has its place on the executor, so that reads reach the owner in order.
    run_here_or_post(
        this->executor_,
        [this, request = std::move(request_)] {
          if (this->handle()->open()) on_read_(*this->handle(), request);
        },
        [this] {
          request_.Clear();
          this->StartRead(&request_);
        });
  }

  Request request_;
  OnRead on_read_;
  OnReadEnd on_read_end_;
};

}  // namespace detail

// A server-streaming call: on_open(std::shared_ptr<Stream<Message>>) runs on the strand; keep the
// handle to send. on_close runs on the strand when the call is over.
template <class Message, class Executor, class OnOpen>
grpc::ServerWriteReactor<Message>* serve_stream_on(const Executor& executor, StreamOptions options,
                                                   OnOpen on_open,
                                                   std::function<void()> on_close = {}) {
  auto* reactor =
      new detail::WriteReactor<Message, Executor>(executor, options, std::move(on_close));
  boost::asio::post(executor, [handle = reactor->handle(), on_open = std::move(on_open)]() mutable {
    on_open(handle);
  });
  return reactor;
}

// A bidirectional call: on_open(handle) first, then on_read(stream, request) for each request,
// on_read_end(stream) when the client is done sending (finish the stream there, or keep writing),
// and on_close() when the call is over. All on the strand.
template <class Request, class Message, class Executor>
grpc::ServerBidiReactor<Request, Message>* serve_bidi_on(
    const Executor& executor, StreamOptions options,
    std::function<void(std::shared_ptr<Stream<Message>>)> on_open,
    std::function<void(Stream<Message>&, const Request&)> on_read,
    std::function<void(Stream<Message>&)> on_read_end, std::function<void()> on_close = {}) {
  return new detail::BidiReactor<Request, Message, Executor>(
      executor, options, std::move(on_open), std::move(on_read), std::move(on_read_end),
      std::move(on_close));
}

// A bidirectional call refused before it starts (a missing API key, say): finished at once with
// `status`.
template <class Request, class Message>
grpc::ServerBidiReactor<Request, Message>* refuse_bidi(grpc::Status status) {
  class Refused final : public grpc::ServerBidiReactor<Request, Message> {
   public:
    explicit Refused(grpc::Status s) { this->Finish(std::move(s)); }
    void OnDone() override { delete this; }
  };
  return new Refused(std::move(status));
}

}  // namespace mkt::runtime
