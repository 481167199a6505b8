// Checks that channels made by make_channel attribute every connection to their node: through a
// proxy, gRPC sends "CONNECT <target>" with the node id in Proxy-Authorization (checked with a tiny
// CONNECT listener here); without one, the channel connects directly even if http_proxy is set.
#include "mkt/runtime/channel.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <future>
#include <thread>

#include "echo_service.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "mkt/runtime/server.h"

using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Accepts one connection, reads the request head, answers 403 and closes.
class ConnectListener {
 public:
  ConnectListener() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      asio::ip::tcp::socket socket(io_);
      boost::system::error_code error;
      acceptor_.accept(socket, error);
      if (error) return request_.set_value("");
      asio::streambuf head;
      asio::read_until(socket, head, "\r\n\r\n", error);
      request_.set_value(
          std::string(asio::buffers_begin(head.data()), asio::buffers_end(head.data())));
      asio::write(socket, asio::buffer(std::string("HTTP/1.1 403 Forbidden\r\n\r\n")), error);
    });
  }
  ~ConnectListener() {
    // A blocking accept does not wake when the acceptor closes; a connection of our own wakes it.
    asio::ip::tcp::socket waker(io_);
    boost::system::error_code ignored;
    waker.connect(acceptor_.local_endpoint(), ignored);
    waker.close(ignored);  // end of stream: the listener stops reading
    thread_.join();
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::future<std::string> request() { return request_.get_future(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::promise<std::string> request_;
  std::thread thread_;
};

grpc::Status check_health(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&ctx, {}, &response);
}

}  // namespace

TEST_CASE("proxy_uri carries the node id as the user") {
  CHECK(mkt::runtime::proxy_uri({"agent-7", "proxy:3128", 0}) == "http://agent-7@proxy:3128");
  CHECK(mkt::runtime::proxy_uri({"agent-7", "", 0}).empty());
}

TEST_CASE("through the proxy, every connection says CONNECT with the node id") {
  ConnectListener proxy;
  auto request = proxy.request();
  auto channel =
      mkt::runtime::make_channel("127.0.0.1:45678", {"agent-7", proxy.address(), 4 << 20});
  // The proxy refuses, so the call fails; what matters is what it was asked.
  CHECK_FALSE(check_health(channel).ok());
  REQUIRE(request.wait_for(5s) == std::future_status::ready);
  const std::string head = request.get();
  CHECK(head.starts_with("CONNECT 127.0.0.1:45678 HTTP/1.1\r\n"));
  // base64("agent-7") == "YWdlbnQtNw=="
  CHECK(head.find("Proxy-Authorization: Basic YWdlbnQtNw==\r\n") != std::string::npos);
}

TEST_CASE("without a proxy the channel connects directly whatever http_proxy says") {
  ConnectListener stray;
  ::setenv("http_proxy", ("http://" + stray.address()).c_str(), 1);
  ::setenv("grpc_proxy", ("http://" + stray.address()).c_str(), 1);
  boost::asio::io_context io;
  mkt::test::EchoService service(boost::asio::make_strand(io));  // a server needs one service
  mkt::runtime::RpcServer server({});
  server.add_service(&service);
  REQUIRE(server.start().has_value());
  auto channel = mkt::runtime::make_channel("127.0.0.1:" + std::to_string(server.port()),
                                            {"agent-7", "", 4 << 20});
  CHECK(check_health(channel).ok());
  auto request = stray.request();
  CHECK(request.wait_for(0s) == std::future_status::timeout);  // nobody asked the stray proxy
  server.shutdown(0ms);
}
