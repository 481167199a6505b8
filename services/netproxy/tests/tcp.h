#pragma once
// Plain TCP for the netproxy tests: an echo server on a free port (its own io thread), and a
// blocking client whose reads have deadlines (poll), with the CONNECT handshake.

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "mkt/testing/io_thread.h"

namespace mkt::netproxy::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Echoes every byte back; when the client half-closes, it half-closes too.
class EchoServer {
 public:
  EchoServer() : acceptor_(io_.io(), {asio::ip::make_address("127.0.0.1"), 0}) {
    io_.run([this] { accept(); });
  }
  ~EchoServer() {
    io_.run([this] { acceptor_.close(); });
    io_.stop();
  }
  int port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    char data[64 * 1024];
    void read() {
      socket.async_read_some(asio::buffer(data), [self = shared_from_this()](
                                                     boost::system::error_code ec, std::size_t n) {
        if (ec) {
          boost::system::error_code ignored;
          self->socket.shutdown(tcp::socket::shutdown_send, ignored);
          return;
        }
        asio::async_write(self->socket, asio::buffer(self->data, n),
                          [self](boost::system::error_code e, std::size_t) {
                            if (!e) self->read();
                          });
      });
    }
  };
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      std::make_shared<Session>(std::move(socket))->read();
      accept();
    });
  }

  mkt::testing::IoThread io_;
  tcp::acceptor acceptor_;
};

class Client {
 public:
  explicit Client(int port) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    socket_.set_option(tcp::no_delay(true));
  }

  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  void shutdown_send() { socket_.shutdown(tcp::socket::shutdown_send); }

  // Up to `n` bytes, whatever arrived by the deadline. `closed` tells whether the peer closed.
  std::string read(std::size_t n, std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{socket_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[64 * 1024];
      boost::system::error_code ec;
      const std::size_t got =
          socket_.read_some(asio::buffer(buf, std::min(sizeof buf, n - out.size())), ec);
      if (ec) {
        closed_ = true;
        last_error_ = ec;
        break;
      }
      out.append(buf, got);
    }
    return out;
  }
  // The response head to a CONNECT (up to the blank line), read byte by byte so nothing after it
  // is taken.
  std::string read_head(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::string head;
    while (!head.ends_with("\r\n\r\n")) {
      const std::string c = read(1, timeout);
      if (c.empty()) break;
      head += c;
    }
    return head;
  }
  // Sends CONNECT as `node` (none when empty) and returns the status code of the answer (0 when
  // there was none).
  int connect_as(const std::string& node, const std::string& target) {
    std::string request = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
    if (!node.empty()) request += "Proxy-Authorization: Basic " + base64(node) + "\r\n";
    send(request + "\r\n");
    return status(read_head());
  }
  static int status(const std::string& head) {
    return head.size() >= 12 ? std::stoi(head.substr(9, 3)) : 0;
  }
  bool closed() const { return closed_; }
  const boost::system::error_code& last_error() const { return last_error_; }
  tcp::socket& socket() { return socket_; }

  static std::string base64(const std::string& in) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto byte = [&](std::size_t k) -> unsigned {
      return k < in.size() ? static_cast<unsigned char>(in[k]) : 0U;
    };
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
      const unsigned v = (byte(i) << 16U) | (byte(i + 1) << 8U) | byte(i + 2);
      out.push_back(table[(v >> 18U) & 63U]);
      out.push_back(table[(v >> 12U) & 63U]);
      out.push_back(i + 1 < in.size() ? table[(v >> 6U) & 63U] : '=');
      out.push_back(i + 2 < in.size() ? table[v & 63U] : '=');
    }
    return out;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_{io_};
  bool closed_ = false;
  boost::system::error_code last_error_;
};

}  // namespace mkt::netproxy::testing
