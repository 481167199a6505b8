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

constexpr std::uint32_t header_bytes_max = 8 * 1024;

asio::steady_timer::time_point at_ns(std::int64_t ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(ns));
}

}  // namespace

struct Connection;

// One direction of a connection: bytes read from `from`, shaped by `link`, written to `to`.
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

struct Connection {
  explicit Connection(tcp::socket socket)
      : stream(std::move(socket)),
        upstream(stream.get_executor()),
        resolver(stream.get_executor()) {}

  beast::tcp_stream stream;  // the client, until the tunnel is up
  tcp::socket client{stream.get_executor()};
  tcp::socket upstream;
  tcp::resolver resolver;
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  std::string peer;
  std::string source, destination;
  std::optional<Direction> up, down;  // client -> target, target -> client
  std::string response;
  bool closed = false;
  std::list<std::shared_ptr<Connection>>::iterator position;
};

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

  asio::io_context& io;
  tcp::acceptor acceptor;
  netmodel::LinkModel& model;
  AddressBook& book;
  metrics::Registry& registry;
  ProxyOptions options;
  metrics::Gauge& open_gauge;
  std::vector<std::unique_ptr<LinkCounters>> counters;
  std::list<std::shared_ptr<Connection>> connections;

  // --- accepting and the CONNECT request ---

  bool linked(const std::string& node) const {
    return std::find(model.nodes().begin(), model.nodes().end(), node) != model.nodes().end();
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) self->on_accept(std::move(socket));
      self->accept();
    });
  }

  void refused(const std::string& reason) {
    registry
        .counter("netproxy_refusals_total", "CONNECT requests refused, by reason.",
                 {{"reason", reason}})
        .add();
  }

  void on_accept(tcp::socket socket) {
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    auto c = std::make_shared<Connection>(std::move(socket));
    c->peer =
        ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
    c->position = connections.insert(connections.end(), c);
    open_gauge.set(static_cast<std::int64_t>(connections.size()));
    if (connections.size() > options.connections_max) {
      refuse(c, http::status::service_unavailable, "too_many_connections",
             "too many connections: " + std::to_string(options.connections_max) +
                 " are open (--max-connections)");
      return;
    }
    c->parser.header_limit(header_bytes_max);
    c->stream.expires_after(options.request_timeout);
    http::async_read_header(c->stream, c->buffer, c->parser,
                            [self = shared_from_this(), c](beast::error_code e, std::size_t) {
                              self->on_request(c, e);
                            });
  }

  void refuse(const std::shared_ptr<Connection>& c, http::status status, const std::string& reason,
              const std::string& message, const std::string& extra_header = {}) {
    spdlog::warn("netproxy: refused {} from {}{}: {}",
                 c->parser.is_header_done() ? std::string(c->parser.get().target())
                                            : std::string("a connection"),
                 c->peer, c->source.empty() ? "" : " (" + c->source + ")", message);
    refused(reason);
    c->response =
        "HTTP/1.1 " + std::to_string(static_cast<unsigned>(status)) + " " +
        std::string(http::obsolete_reason(status)) + "\r\n" + extra_header +
        "Content-Type: text/plain\r\nContent-Length: " + std::to_string(message.size() + 1) +
        "\r\nConnection: close\r\n\r\n" + message + "\n";
    c->stream.expires_after(options.request_timeout);
    asio::async_write(c->stream, asio::buffer(c->response),
                      [self = shared_from_this(), c](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
                        self->close(c);
                      });
  }

  void on_request(const std::shared_ptr<Connection>& c, beast::error_code ec) {
    if (c->closed) return;
    if (ec == beast::error::timeout) {
      spdlog::warn("netproxy: closed {}: no CONNECT request within {} ms", c->peer,
                   options.request_timeout.count());
      refused("request_timeout");
      close(c);
      return;
    }
    if (ec == http::error::header_limit) {
      refuse(c, http::status::request_header_fields_too_large, "oversized",
             "the request headers are over " + std::to_string(header_bytes_max) + " bytes");
      return;
    }
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::connection_reset) {
        close(c);
      } else {
        refuse(c, http::status::bad_request, "malformed", "bad request: " + ec.message());
      }
      return;
    }
    const auto& request = c->parser.get();
    if (request.method() != http::verb::connect) {
      refuse(c, http::status::method_not_allowed, "not_connect",
             "only CONNECT: this is netproxy, an HTTP CONNECT proxy");
      return;
    }
    const auto auth = request.find(http::field::proxy_authorization);
    if (auth == request.end()) {
      refuse(c, http::status::proxy_authentication_required, "no_node",
             "Proxy-Authorization must name the node (grpc.http_proxy=http://<node-id>@host:port)",
             "Proxy-Authenticate: Basic realm=\"netmarket\"\r\n");
      return;
    }
    auto source = runtime::node_of_authorization(auth->value());
    if (!source) {
      refuse(c, http::status::proxy_authentication_required, "no_node", source.error(),
             "Proxy-Authenticate: Basic realm=\"netmarket\"\r\n");
      return;
    }
    c->source = *source;
    if (!book.knows_node(c->source)) {
      refuse(c, http::status::forbidden, "unknown_node",
             "'" + c->source + "' is not a node of the scenario");
      return;
    }
    const std::string target(request.target());
    const auto hp = runtime::split_host_port(target);
    if (!hp) {
      refuse(c, http::status::bad_request, "malformed", "'" + target + "' is not host:port");
      return;
    }
    const auto destination = book.node_of_target(target);
    if (!destination) {
      refuse(c, http::status::forbidden, "unknown_target",
             "'" + target + "' is no node of the scenario");
      return;
    }
    c->destination = *destination;
    // Both on the impaired network: the link model shapes both directions. Otherwise (the
    // monitor, a node talking to itself) the tunnel is not shaped.
    std::optional<LinkId> forward, backward;
    if (linked(c->source) && linked(c->destination) && c->source != c->destination) {
      forward = model.find(c->source, c->destination);
      backward = model.find(c->destination, c->source);
      if (!forward || !backward) {
        refuse(c, http::status::forbidden, "no_route",
               "no route between " + c->source + " and " + c->destination);
        return;
      }
    }
    if ((forward && model.cut(*forward) == CutMode::reset) ||
        (backward && model.cut(*backward) == CutMode::reset)) {
      refuse(c, http::status::service_unavailable, "partitioned",
             c->source + " and " + c->destination + " are partitioned (reset)");
      return;
    }
    c->resolver.async_resolve(
        hp->first.front() == '[' ? hp->first.substr(1, hp->first.size() - 2) : hp->first,
        hp->second,
        [self = shared_from_this(), c, forward, backward](
            beast::error_code e, const tcp::resolver::results_type& results) {
          if (c->closed) return;
          if (e) {
            self->refuse(c, http::status::bad_gateway, "unreachable",
                         "cannot resolve the target: " + e.message());
            return;
          }
          self->connect(c, results, forward, backward);
        });
  }

  void connect(const std::shared_ptr<Connection>& c, const tcp::resolver::results_type& results,
               std::optional<LinkId> forward, std::optional<LinkId> backward) {
    auto timer = std::make_shared<asio::steady_timer>(io, options.connect_timeout);
    timer->async_wait([c](beast::error_code e) {
      if (!e) {
        beast::error_code ignored;
        c->upstream.cancel(ignored);
      }
    });
    asio::async_connect(c->upstream, results,
                        [self = shared_from_this(), c, forward, backward, timer](
                            beast::error_code e, const tcp::endpoint&) {
                          timer->cancel();
                          if (c->closed) return;
                          if (e) {
                            self->refuse(c, http::status::bad_gateway, "unreachable",
                                         "the target " + std::string(c->parser.get().target()) +
                                             " does not answer: " + e.message());
                            return;
                          }
                          self->open_tunnel(c, forward, backward);
                        });
  }

  LinkCounters* counters_of(LinkId link) {
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

  void open_tunnel(const std::shared_ptr<Connection>& c, std::optional<LinkId> forward,
                   std::optional<LinkId> backward) {
    c->stream.expires_never();
    c->client = c->stream.release_socket();
    beast::error_code ignored;
    c->client.set_option(tcp::no_delay(true), ignored);
    c->upstream.set_option(tcp::no_delay(true), ignored);
    const auto ex = c->client.get_executor();
    c->up.emplace(ex, c->client, c->upstream);
    c->down.emplace(ex, c->upstream, c->client);
    c->up->link = forward;
    c->down->link = backward;
    if (forward) {
      c->up->counters = counters_of(*forward);
      c->up->counters->connections_open->add(1);
      c->up->counters->connections_total->add();
    }
    if (backward) c->down->counters = counters_of(*backward);
    spdlog::debug("netproxy: {} -> {} ({}) open", c->source, c->destination,
                  std::string(c->parser.get().target()));
    // Bytes the client sent after its request go first.
    std::vector<char> early(static_cast<std::size_t>(c->buffer.size()));
    asio::buffer_copy(asio::buffer(early), c->buffer.data());
    c->response = "HTTP/1.1 200 Connection established\r\n\r\n";
    asio::async_write(c->client, asio::buffer(c->response),
                      [self = shared_from_this(), c, early = std::move(early)](
                          beast::error_code e, std::size_t) mutable {
                        if (c->closed) return;
                        if (e) {
                          self->close(c);
                          return;
                        }
                        if (!early.empty()) self->offer(c, *c->up, std::move(early));
                        self->read(c, *c->up);
                        self->read(c, *c->down);
                      });
  }

  // --- moving bytes ---

  void read(const std::shared_ptr<Connection>& c, Direction& d) {
    if (c->closed || d.reading || d.eof || d.dropped || d.queued_bytes >= options.window_bytes) {
      return;
    }
    d.reading = true;
    if (!d.spare.empty()) {
      d.read_buffer = std::move(d.spare.back());
      d.spare.pop_back();
    }
    const auto max = static_cast<std::int64_t>(options.read_bytes);
    d.read_buffer.resize(static_cast<std::size_t>(d.link ? model.chunk_bytes(*d.link, max) : max));
    d.from.async_read_some(asio::buffer(d.read_buffer),
                           [self = shared_from_this(), c, &d](beast::error_code e, std::size_t n) {
                             d.reading = false;
                             if (c->closed) return;
                             if (e == asio::error::eof) {
                               d.eof = true;
                               self->pump(c, d);
                               return;
                             }
                             if (e) {
                               self->close(c);
                               return;
                             }
                             d.read_buffer.resize(n);
                             self->offer(c, d, std::move(d.read_buffer));
                             self->read(c, d);
                           });
  }

  void offer(const std::shared_ptr<Connection>& c, Direction& d, std::vector<char> bytes) {
    const std::int64_t now = options.clock->steady_ns();
    std::int64_t release = now;
    if (d.link) {
      const auto transit =
          model.send(*d.link, d.flow, now, static_cast<std::int64_t>(bytes.size()));
      if (transit.dropped) {
        d.counters->queue_drops->add();
        d.dropped = std::move(bytes);
        d.retry_timer.expires_at(at_ns(transit.release_ns));
        d.retry_timer.async_wait([self = shared_from_this(), c, &d](beast::error_code e) {
          if (e || c->closed || !d.dropped) return;
          auto retried = std::move(*d.dropped);
          d.dropped.reset();
          self->offer(c, d, std::move(retried));
          self->read(c, d);
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
    pump(c, d);
  }

  void pump(const std::shared_ptr<Connection>& c, Direction& d) {
    if (c->closed || d.writing || d.held) return;
    if (d.queue.empty()) {
      if (d.eof && !d.dropped && !d.shut) {
        d.shut = true;
        beast::error_code ignored;
        d.to.shutdown(tcp::socket::shutdown_send, ignored);
        if (c->up->shut && c->down->shut) close(c);
      }
      return;
    }
    if (d.link) {
      const auto cut = model.cut(*d.link);
      if (cut == CutMode::reset) {
        reset(c);
        return;
      }
      if (cut == CutMode::blackhole) {
        d.held = true;
        d.counters->held_bytes->add(static_cast<std::int64_t>(d.queued_bytes));
        return;
      }
    }
    const std::int64_t due = d.queue.front().release_ns;
    if (due > options.clock->steady_ns()) {
      if (d.timer_due_ns == due) return;
      d.timer_due_ns = due;
      d.release_timer.expires_at(at_ns(due));
      d.release_timer.async_wait([self = shared_from_this(), c, &d, due](beast::error_code e) {
        if (e || c->closed || d.timer_due_ns != due) return;
        d.timer_due_ns = -1;
        self->pump(c, d);
      });
      return;
    }
    d.writing = true;
    asio::async_write(d.to, asio::buffer(d.queue.front().bytes),
                      [self = shared_from_this(), c, &d](beast::error_code e, std::size_t) {
                        d.writing = false;
                        if (c->closed) return;
                        if (e) {
                          self->close(c);
                          return;
                        }
                        auto& front = d.queue.front();
                        d.queued_bytes -= front.bytes.size();
                        if (d.spare.size() < 4) d.spare.push_back(std::move(front.bytes));
                        d.queue.pop_front();
                        self->pump(c, d);
                        self->read(c, d);
                      });
  }

  // --- ending ---

  void release_held(const std::shared_ptr<Connection>& c, Direction& d) {
    if (!d.held || (d.link && model.cut(*d.link))) return;
    d.held = false;
    d.counters->held_bytes->add(-static_cast<std::int64_t>(d.queued_bytes));
    pump(c, d);
  }

  void reset(const std::shared_ptr<Connection>& c) {
    if (c->closed) return;
    spdlog::info("netproxy: reset {} -> {} (partitioned)", c->source, c->destination);
    beast::error_code ignored;
    for (tcp::socket* s : {&c->client, &c->upstream}) {
      s->set_option(asio::socket_base::linger(true, 0), ignored);
    }
    close(c);
  }

  void close(const std::shared_ptr<Connection>& c) {
    if (c->closed) return;
    c->closed = true;
    beast::error_code ignored;
    c->stream.socket().close(ignored);
    c->client.close(ignored);
    c->upstream.close(ignored);
    c->resolver.cancel();
    for (auto* d : {c->up ? &*c->up : nullptr, c->down ? &*c->down : nullptr}) {
      if (d == nullptr) continue;
      d->release_timer.cancel();
      d->retry_timer.cancel();
      if (d->held) d->counters->held_bytes->add(-static_cast<std::int64_t>(d->queued_bytes));
    }
    if (c->up && c->up->counters) c->up->counters->connections_open->add(-1);
    connections.erase(c->position);
    open_gauge.set(static_cast<std::int64_t>(connections.size()));
  }

  void apply_cuts() {
    // Closing removes from the list: walk a copy.
    const std::vector<std::shared_ptr<Connection>> all(connections.begin(), connections.end());
    for (const auto& c : all) {
      if (!c->up) continue;
      const bool reset_cut = (c->up->link && model.cut(*c->up->link) == CutMode::reset) ||
                             (c->down->link && model.cut(*c->down->link) == CutMode::reset);
      if (reset_cut) {
        reset(c);
        continue;
      }
      release_held(c, *c->up);
      release_held(c, *c->down);
    }
  }
};

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
  asio::post(state_->io, [state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
    while (!state->connections.empty()) state->close(state->connections.front());
  });
}

void Proxy::apply_cuts() {
  state_->apply_cuts();
}

const LinkCounters* Proxy::counters(LinkId link) const {
  return state_->counters[link].get();
}

std::size_t Proxy::open_connections() const {
  return state_->connections.size();
}

}  // namespace mkt::netproxy
