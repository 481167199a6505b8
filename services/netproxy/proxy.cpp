#include "proxy.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <list>
#include <optional>
#include <vector>

#include "connect.h"
#include "mkt/runtime/address.h"
#include "mkt/runtime/clock.h"

namespace mkt::netproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using netmodel::CutMode;
using netmodel::LinkId;

namespace {

asio::steady_timer::time_point at_ns(std::int64_t ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(ns));
}

class Session;

}  // namespace

// What every session shares: the model and the book, the registry and each link's counters, and
// the list of open sessions. On the io thread only.
struct Proxy::State : std::enable_shared_from_this<Proxy::State> {
  State(asio::io_context& io_context, netmodel::LinkModel& link_model, AddressBook& address_book,
        metrics::Registry& metrics_registry, ProxyOptions proxy_options)
      : io(io_context),
        acceptor(io_context),
        model(link_model),
        book(address_book),
        registry(metrics_registry),
        options(proxy_options),
        open_gauge(registry.gauge("netproxy_connections_open", "Tunnels open now.")),
        counters(model.link_count()) {}

  void accept();
  void refused(const std::string& reason);
  LinkCounters* counters_of(LinkId link);
  void close_all();
  void apply_cuts();

  asio::io_context& io;
  tcp::acceptor acceptor;
  netmodel::LinkModel& model;
  AddressBook& book;
  metrics::Registry& registry;
  ProxyOptions options;
  metrics::Gauge& open_gauge;
  std::vector<std::unique_ptr<LinkCounters>> counters;
  std::list<std::shared_ptr<Session>> sessions;
};

namespace {

// One direction of a tunnel: bytes read from `from`, shaped by `link`, written to `to`.
struct Direction {
  struct Chunk {
    std::vector<char> bytes;
    std::int64_t release_ns = 0;
  };

  Direction(asio::any_io_executor ex, tcp::socket& from_socket, tcp::socket& to_socket)
      : from(from_socket), to(to_socket), release_timer(ex), retry_timer(ex) {}

  tcp::socket& from;
  tcp::socket& to;
  std::optional<LinkId> link;
  LinkCounters* counters = nullptr;
  netmodel::Flow flow;
  std::deque<Chunk> queue;
  std::size_t queued_bytes = 0;
  std::vector<char> read_buffer;
  std::vector<std::vector<char>> spare;  // buffers to reuse
  std::optional<std::vector<char>> dropped;
  asio::steady_timer release_timer;
  asio::steady_timer retry_timer;
  std::int64_t timer_due_ns = -1;  // when release_timer is set, else -1
  bool reading = false;
  bool writing = false;
  bool eof = false;
  bool shut = false;
  bool held = false;
};

// One client connection, in the shape of Beast's examples: it reads the CONNECT request, connects
// to the target, then relays both directions through the model. It keeps itself alive through
// the handlers it has in flight and its place in State::sessions; close() ends both.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Proxy::State> shared, tcp::socket socket)
      : shared_(std::move(shared)),
        stream_(std::move(socket)),
        upstream_(stream_.get_executor()),
        resolver_(stream_.get_executor()) {}

  void start(std::list<std::shared_ptr<Session>>::iterator position);
  void close();
  // After the model's cuts changed: resets across a reset cut, delivers what no cut holds now.
  void apply_cuts();

 private:
  void do_read_request();
  void on_request(beast::error_code ec);
  void refuse(http::status status, const std::string& reason, const std::string& message,
              const std::string& extra_header = {});
  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results,
                  std::optional<LinkId> forward, std::optional<LinkId> backward);
  void on_connect(beast::error_code ec, std::optional<LinkId> forward,
                  std::optional<LinkId> backward);
  void open_tunnel(std::optional<LinkId> forward, std::optional<LinkId> backward);
  void do_read(Direction& d);
  void on_read(Direction& d, beast::error_code ec, std::size_t n);
  void offer(Direction& d, std::vector<char> bytes);
  void pump(Direction& d);
  void on_write(Direction& d, beast::error_code ec);
  void release_held(Direction& d);
  void reset();
  bool linked(const std::string& node) const;
  std::string target() const;

  netmodel::LinkModel& model() const { return shared_->model; }
  const ProxyOptions& options() const { return shared_->options; }

  std::shared_ptr<Proxy::State> shared_;

  beast::tcp_stream stream_;  // the client, until the tunnel is up
  tcp::socket client_{stream_.get_executor()};
  tcp::socket upstream_;
  tcp::resolver resolver_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  std::string peer_;
  std::string source_, destination_;
  std::optional<Direction> up_, down_;  // client -> target, target -> client
  std::string response_;
  bool closed_ = false;
  std::list<std::shared_ptr<Session>>::iterator position_;
};

// --- the CONNECT request ---

void Session::start(std::list<std::shared_ptr<Session>>::iterator position) {
  position_ = position;
  beast::error_code ec;
  const auto remote = stream_.socket().remote_endpoint(ec);
  peer_ =
      ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
  if (shared_->sessions.size() > options().connections_max) {
    refuse(http::status::service_unavailable, "too_many_connections",
           "too many connections: " + std::to_string(options().connections_max) +
               " are open (--connections-max)");
    return;
  }
  do_read_request();
}

void Session::do_read_request() {
  parser_.header_limit(connect_header_bytes_max);
  stream_.expires_after(options().request_timeout);
  http::async_read_header(
      stream_, buffer_, parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
}

std::string Session::target() const {
  return parser_.is_header_done() ? std::string(parser_.get().target()) : std::string();
}

bool Session::linked(const std::string& node) const {
  const auto& nodes = model().nodes();
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

void Session::refuse(http::status status, const std::string& reason, const std::string& message,
                     const std::string& extra_header) {
  spdlog::warn("netproxy: refused {} from {}{}: {}",
               parser_.is_header_done() ? target() : std::string("a connection"), peer_,
               source_.empty() ? "" : " (" + source_ + ")", message);
  shared_->refused(reason);
  response_ = "HTTP/1.1 " + std::to_string(static_cast<unsigned>(status)) + " " +
              std::string(http::obsolete_reason(status)) + "\r\n" + extra_header +
              "Content-Type: text/plain\r\nContent-Length: " + std::to_string(message.size() + 1) +
              "\r\nConnection: close\r\n\r\n" + message + "\n";
  stream_.expires_after(options().request_timeout);
  asio::async_write(stream_, asio::buffer(response_),
                    [self = shared_from_this()](beast::error_code, std::size_t) {
                      beast::error_code ignored;
                      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                      self->close();
                    });
}

void Session::on_request(beast::error_code ec) {
  if (closed_) return;
  if (ec == beast::error::timeout) {
    spdlog::warn("netproxy: closed {}: no CONNECT request within {} ms", peer_,
                 options().request_timeout.count());
    shared_->refused("request_timeout");
    close();
    return;
  }
  if (ec == http::error::header_limit) {
    refuse(http::status::request_header_fields_too_large, "oversized",
           "the request headers are over " + std::to_string(connect_header_bytes_max) + " bytes");
    return;
  }
  if (ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset) {
      close();
    } else {
      refuse(http::status::bad_request, "malformed", "bad request: " + ec.message());
    }
    return;
  }
  auto request = check_connect(parser_.get());
  if (!request) {
    const ConnectRefusal& why = request.error();
    refuse(why.status, why.reason, why.message,
           why.challenge ? "Proxy-Authenticate: Basic realm=\"netmarket\"\r\n" : "");
    return;
  }
  source_ = request->source;
  if (!shared_->book.knows_node(source_)) {
    refuse(http::status::forbidden, "unknown_node",
           "'" + source_ + "' is not a node of the scenario");
    return;
  }
  const std::string& wanted = request->target;
  const auto destination = shared_->book.node_of_target(wanted);
  if (!destination) {
    refuse(http::status::forbidden, "unknown_target",
           "'" + wanted + "' is no node of the scenario");
    return;
  }
  destination_ = *destination;
  // Both on the impaired network: the link model shapes both directions. Otherwise (the
  // monitor, a node talking to itself) the tunnel is not shaped.
  std::optional<LinkId> forward, backward;
  if (linked(source_) && linked(destination_) && source_ != destination_) {
    forward = model().find(source_, destination_);
    backward = model().find(destination_, source_);
    if (!forward || !backward) {
      refuse(http::status::forbidden, "no_route",
             "no route between " + source_ + " and " + destination_);
      return;
    }
  }
  if ((forward && model().cut(*forward) == CutMode::reset) ||
      (backward && model().cut(*backward) == CutMode::reset)) {
    refuse(http::status::service_unavailable, "partitioned",
           source_ + " and " + destination_ + " are partitioned (reset)");
    return;
  }
  resolver_.async_resolve(request->host, request->port,
                          [self = shared_from_this(), forward, backward](
                              beast::error_code e, const tcp::resolver::results_type& results) {
                            self->on_resolve(e, results, forward, backward);
                          });
}

void Session::on_resolve(beast::error_code ec, const tcp::resolver::results_type& results,
                         std::optional<LinkId> forward, std::optional<LinkId> backward) {
  if (closed_) return;
  if (ec) {
    refuse(http::status::bad_gateway, "unreachable", "cannot resolve the target: " + ec.message());
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(shared_->io, options().connect_timeout);
  timer->async_wait([self = shared_from_this()](beast::error_code e) {
    if (!e) {
      beast::error_code ignored;
      self->upstream_.cancel(ignored);
    }
  });
  asio::async_connect(upstream_, results,
                      [self = shared_from_this(), forward, backward, timer](beast::error_code e,
                                                                            const tcp::endpoint&) {
                        timer->cancel();
                        self->on_connect(e, forward, backward);
                      });
}

void Session::on_connect(beast::error_code ec, std::optional<LinkId> forward,
                         std::optional<LinkId> backward) {
  if (closed_) return;
  if (ec) {
    refuse(http::status::bad_gateway, "unreachable",
           "the target " + target() + " does not answer: " + ec.message());
    return;
  }
  open_tunnel(forward, backward);
}

void Session::open_tunnel(std::optional<LinkId> forward, std::optional<LinkId> backward) {
  stream_.expires_never();
  client_ = stream_.release_socket();
  beast::error_code ignored;
  client_.set_option(tcp::no_delay(true), ignored);
  upstream_.set_option(tcp::no_delay(true), ignored);
  const auto ex = client_.get_executor();
  up_.emplace(ex, client_, upstream_);
  down_.emplace(ex, upstream_, client_);
  up_->link = forward;
  down_->link = backward;
  if (forward) {
    up_->counters = shared_->counters_of(*forward);
    up_->counters->connections_open->add(1);
    up_->counters->connections_total->add();
  }
  if (backward) down_->counters = shared_->counters_of(*backward);
  spdlog::debug("netproxy: {} -> {} ({}) open", source_, destination_, target());
  // Bytes the client sent after its request go first.
  std::vector<char> early(static_cast<std::size_t>(buffer_.size()));
  asio::buffer_copy(asio::buffer(early), buffer_.data());
  response_ = "HTTP/1.1 200 Connection established\r\n\r\n";
  asio::async_write(client_, asio::buffer(response_),
                    [self = shared_from_this(), early = std::move(early)](beast::error_code e,
                                                                          std::size_t) mutable {
                      if (self->closed_) return;
                      if (e) {
                        self->close();
                        return;
                      }
                      if (!early.empty()) self->offer(*self->up_, std::move(early));
                      self->do_read(*self->up_);
                      self->do_read(*self->down_);
                    });
}

// --- moving bytes ---

void Session::do_read(Direction& d) {
  if (closed_ || d.reading || d.eof || d.dropped || d.queued_bytes >= options().window_bytes) {
    return;
  }
  d.reading = true;
  if (!d.spare.empty()) {
    d.read_buffer = std::move(d.spare.back());
    d.spare.pop_back();
  }
  const auto max = static_cast<std::int64_t>(options().read_bytes);
  d.read_buffer.resize(static_cast<std::size_t>(d.link ? model().chunk_bytes(*d.link, max) : max));
  d.from.async_read_some(asio::buffer(d.read_buffer),
                         [self = shared_from_this(), &d](beast::error_code e, std::size_t n) {
                           self->on_read(d, e, n);
                         });
}

void Session::on_read(Direction& d, beast::error_code ec, std::size_t n) {
  d.reading = false;
  if (closed_) return;
  if (ec == asio::error::eof) {
    d.eof = true;
    pump(d);
    return;
  }
  if (ec) {
    close();
    return;
  }
  d.read_buffer.resize(n);
  offer(d, std::move(d.read_buffer));
  do_read(d);
}

void Session::offer(Direction& d, std::vector<char> bytes) {
  const std::int64_t now = options().clock->steady_ns();
  std::int64_t release = now;
  if (d.link) {
    const auto transit =
        model().send(*d.link, d.flow, now, static_cast<std::int64_t>(bytes.size()));
    if (transit.dropped) {
      d.counters->queue_drops->add();
      d.dropped = std::move(bytes);
      d.retry_timer.expires_at(at_ns(transit.release_ns));
      d.retry_timer.async_wait([self = shared_from_this(), &d](beast::error_code e) {
        if (e || self->closed_ || !d.dropped) return;
        auto retried = std::move(*d.dropped);
        d.dropped.reset();
        self->offer(d, std::move(retried));
        self->do_read(d);
      });
      return;
    }
    release = transit.release_ns;
    d.counters->bytes->add(bytes.size());
    d.counters->applied_delay->observe(release - now);
    if (transit.segments_lost > 0) d.counters->segments_lost->add(transit.segments_lost);
    if (d.held) d.counters->held_bytes->add(static_cast<std::int64_t>(bytes.size()));
  }
  d.queued_bytes += bytes.size();
  d.queue.push_back({std::move(bytes), release});
  pump(d);
}

void Session::pump(Direction& d) {
  if (closed_ || d.writing || d.held) return;
  if (d.queue.empty()) {
    if (d.eof && !d.dropped && !d.shut) {
      d.shut = true;
      beast::error_code ignored;
      d.to.shutdown(tcp::socket::shutdown_send, ignored);
      if (up_->shut && down_->shut) close();
    }
    return;
  }
  if (d.link) {
    const auto cut = model().cut(*d.link);
    if (cut == CutMode::reset) {
      reset();
      return;
    }
    if (cut == CutMode::blackhole) {
      d.held = true;
      d.counters->held_bytes->add(static_cast<std::int64_t>(d.queued_bytes));
      return;
    }
  }
  const std::int64_t due = d.queue.front().release_ns;
  if (due > options().clock->steady_ns()) {
    if (d.timer_due_ns == due) return;
    d.timer_due_ns = due;
    d.release_timer.expires_at(at_ns(due));
    d.release_timer.async_wait([self = shared_from_this(), &d, due](beast::error_code e) {
      if (e || self->closed_ || d.timer_due_ns != due) return;
      d.timer_due_ns = -1;
      self->pump(d);
    });
    return;
  }
  d.writing = true;
  asio::async_write(
      d.to, asio::buffer(d.queue.front().bytes),
      [self = shared_from_this(), &d](beast::error_code e, std::size_t) { self->on_write(d, e); });
}

void Session::on_write(Direction& d, beast::error_code ec) {
  d.writing = false;
  if (closed_) return;
  if (ec) {
    close();
    return;
  }
  auto& front = d.queue.front();
  d.queued_bytes -= front.bytes.size();
  if (d.spare.size() < 4) d.spare.push_back(std::move(front.bytes));
  d.queue.pop_front();
  pump(d);
  do_read(d);
}

// --- cuts and ending ---

void Session::apply_cuts() {
  if (closed_ || !up_) return;
  if ((up_->link && model().cut(*up_->link) == CutMode::reset) ||
      (down_->link && model().cut(*down_->link) == CutMode::reset)) {
    reset();
    return;
  }
  release_held(*up_);
  release_held(*down_);
}

void Session::release_held(Direction& d) {
  if (!d.held || (d.link && model().cut(*d.link))) return;
  d.held = false;
  d.counters->held_bytes->add(-static_cast<std::int64_t>(d.queued_bytes));
  pump(d);
}

void Session::reset() {
  if (closed_) return;
  spdlog::info("netproxy: reset {} -> {} (partitioned)", source_, destination_);
  beast::error_code ignored;
  for (tcp::socket* s : {&client_, &upstream_}) {
    s->set_option(asio::socket_base::linger(true, 0), ignored);
  }
  close();
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ignored;
  stream_.socket().close(ignored);
  client_.close(ignored);
  upstream_.close(ignored);
  resolver_.cancel();
  for (Direction* d : {up_ ? &*up_ : nullptr, down_ ? &*down_ : nullptr}) {
    if (d == nullptr) continue;
    d->release_timer.cancel();
    d->retry_timer.cancel();
    if (d->held) d->counters->held_bytes->add(-static_cast<std::int64_t>(d->queued_bytes));
  }
  if (up_ && up_->counters) up_->counters->connections_open->add(-1);
  auto self = shared_from_this();  // the list may hold the last reference
  shared_->sessions.erase(position_);
  shared_->open_gauge.set(static_cast<std::int64_t>(shared_->sessions.size()));
}

}  // namespace

// --- the acceptor and what sessions share ---

void Proxy::State::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) {
      auto session = std::make_shared<Session>(self, std::move(socket));
      const auto position = self->sessions.insert(self->sessions.end(), session);
      self->open_gauge.set(static_cast<std::int64_t>(self->sessions.size()));
      session->start(position);
    }
    self->accept();
  });
}

void Proxy::State::refused(const std::string& reason) {
  registry
      .counter("netproxy_refusals_total", "CONNECT requests refused, by reason.",
               {{"reason", reason}})
      .add();
}

LinkCounters* Proxy::State::counters_of(LinkId link) {
  auto& slot = counters[link];
  if (!slot) {
    const metrics::Labels labels{{"source", model.source(link)},
                                 {"destination", model.destination(link)}};
    slot = std::make_unique<LinkCounters>();
    slot->bytes = &registry.counter("netproxy_link_bytes_total",
                                    "Bytes carried from source to destination.", labels);
    slot->connections_open = &registry.gauge("netproxy_link_connections_open",
                                             "Tunnels open from source to destination.", labels);
    slot->connections_total = &registry.counter(
        "netproxy_link_connections_total", "Tunnels opened from source to destination.", labels);
    slot->applied_delay = &registry.histogram(
        "netproxy_link_applied_delay_seconds",
        "Delay the proxy applied to each chunk, from its read to when it was due.",
        metrics::exponential_bounds(1000, 2, 100'000'000'000), 1e9, labels);
    slot->segments_lost =
        &registry.counter("netproxy_link_segments_lost_total",
                          "Segment transmissions lost (then retransmitted).", labels);
    slot->queue_drops =
        &registry.counter("netproxy_link_queue_drops_total",
                          "Chunks dropped at a full hop queue (then retried).", labels);
    slot->held_bytes = &registry.gauge("netproxy_link_held_bytes",
                                       "Bytes held now behind a black-hole partition.", labels);
  }
  return slot.get();
}

void Proxy::State::close_all() {
  beast::error_code ignored;
  acceptor.close(ignored);
  while (!sessions.empty()) sessions.front()->close();
}

void Proxy::State::apply_cuts() {
  // A reset closes the session, which leaves the list: walk a copy.
  const std::vector<std::shared_ptr<Session>> all(sessions.begin(), sessions.end());
  for (const auto& session : all) session->apply_cuts();
}

Proxy::Proxy(asio::io_context& io, netmodel::LinkModel& model, AddressBook& book,
             metrics::Registry& registry, ProxyOptions options)
    : state_(std::make_shared<State>(io, model, book, registry, options)) {}

Proxy::~Proxy() {
  stop();
}

std::expected<int, std::string> Proxy::start(const std::string& listen_address) {
  auto port = runtime::listen_on(state_->acceptor, listen_address);
  if (port) state_->accept();
  return port;
}

void Proxy::stop() {
  asio::post(state_->io, [state = state_] { state->close_all(); });
}

void Proxy::apply_cuts() {
  state_->apply_cuts();
}

const LinkCounters* Proxy::counters(LinkId link) const {
  return state_->counters[link].get();
}

std::size_t Proxy::open_connections() const {
  return state_->sessions.size();
}

}  // namespace mkt::netproxy
