// host:port addresses: what splits and what does not, and binding an acceptor (a free port, a
// bad address, a port in use).

#include "mkt/runtime/address.h"

#include <catch2/catch_test_macros.hpp>

using mkt::runtime::listen_on;
using mkt::runtime::split_host_port;

TEST_CASE("addresses split into host and port") {
  CHECK(split_host_port("127.0.0.1:80") == std::pair<std::string, std::string>{"127.0.0.1", "80"});
  CHECK(split_host_port("[::1]:5000") == std::pair<std::string, std::string>{"[::1]", "5000"});
  CHECK(split_host_port("ex-1:50051")->first == "ex-1");
  CHECK_FALSE(split_host_port("no-port"));
  CHECK_FALSE(split_host_port("host:"));
  CHECK_FALSE(split_host_port(":80"));
  CHECK_FALSE(split_host_port("host:99999"));
  CHECK_FALSE(split_host_port("host:8x"));
  CHECK_FALSE(split_host_port("::1:80"));  // IPv6 needs brackets
}

TEST_CASE("an acceptor binds a free port and names what went wrong") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor first(io), second(io), third(io);
  const auto port = listen_on(first, "127.0.0.1:0");
  REQUIRE(port);
  CHECK(*port > 0);
  const auto in_use = listen_on(second, "127.0.0.1:" + std::to_string(*port));
  REQUIRE_FALSE(in_use);
  CHECK(in_use.error().starts_with("cannot listen on 127.0.0.1:"));
  CHECK(listen_on(third, "localhost").error() == "'localhost' is not host:port");
  CHECK(listen_on(third, "not-an-ip:0").error() == "'not-an-ip:0' is not host:port");
  CHECK(listen_on(third, "[::1]:0"));
}
