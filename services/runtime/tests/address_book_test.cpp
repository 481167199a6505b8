// Who is asking and where to: Proxy-Authorization as gRPC sends it, and the
// address book from flags and from a file read again when it changes.

#include "mkt/runtime/address_book.h"

#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <filesystem>
#include <fstream>

using namespace mkt::runtime;

TEST_CASE("Proxy-Authorization names the node") {
  CHECK(node_of_authorization("Basic YWxpY2U=").value() == "alice");    // base64("alice")
  CHECK(node_of_authorization("basic   YWxpY2U6").value() == "alice");  // "alice:" unpadded
  CHECK(node_of_authorization("Basic YWdlbnQtNzpzZWNyZXQ=").value() ==
        "agent-7");  // with a password
  CHECK(node_of_authorization("Bearer abc").error() == "Proxy-Authorization is not Basic");
  CHECK(node_of_authorization("Basic !!!").error() == "Proxy-Authorization is not base64");
  CHECK(node_of_authorization("Basic Og==").error() == "Proxy-Authorization names no node");
  CHECK_FALSE(node_of_authorization("Basic "));
}

TEST_CASE("the address book maps targets to nodes and nodes to addresses") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("netproxy-book-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = (dir / "addresses").string();
  AddressBook book({"ex-1", "ex-2", "alice"}, file);
  CHECK_FALSE(book.reload());                          // no file yet
  CHECK(book.node_of_target("ex-1:50051") == "ex-1");  // a node id as host (docker-compose)
  CHECK(book.add("ex-2=127.0.0.1:6000"));
  CHECK(book.node_of_target("localhost:6000") == "ex-2");  // loopback names are one host
  CHECK(book.node_of_target("[::1]:6000") == "ex-2");
  CHECK_FALSE(book.node_of_target("127.0.0.1:6001"));
  CHECK(book.add("nobody=127.0.0.1:1").error() == "'nobody' is not a node of the scenario");
  CHECK(book.add("ex-1").error() == "'ex-1' is not <node>=<host>:<port>");

  std::ofstream(file)
      << "# written by marketctl\nalice 127.0.0.1:7000\n\nex-1 10.0.0.5:7001  # remote\n";
  CHECK(book.node_of_target("127.0.0.1:7000") == "alice");  // read on the miss
  CHECK(book.node_of_target("10.0.0.5:7001") == "ex-1");
  // Restarted on another port: the file changes and the new address is found.
  std::filesystem::last_write_time(
      file, std::filesystem::last_write_time(file) - std::chrono::seconds(5));
  std::ofstream(file) << "alice 127.0.0.1:7100\n";
  CHECK(book.node_of_target("127.0.0.1:7100") == "alice");
  CHECK_FALSE(book.node_of_target("127.0.0.1:7000"));
  // And the other way: where a node is (a validator looking for its peers).
  CHECK(book.address_of("alice") == "127.0.0.1:7100");
  CHECK(book.address_of("ex-2") == "127.0.0.1:6000");  // a flag
  CHECK_FALSE(book.address_of("ex-1"));                // gone from the file
  // A broken file is an error that names the line, and the entries before it stay.
  std::ofstream(file) << "alice 127.0.0.1:7100\nbob 127.0.0.1:1\n";
  const auto broken = book.reload();
  REQUIRE_FALSE(broken);
  CHECK(broken.error() == file + ":2: 'bob' is not a node");
  CHECK(book.node_of_target("127.0.0.1:7100") == "alice");
  std::filesystem::remove_all(dir);
}
