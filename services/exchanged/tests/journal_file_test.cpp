// The journal file on a real disk: durable callbacks run in append order, once per record, with
// and without fsync and with a batch delay; after_pending waits behind what was appended; a
// reopen replays every record, cuts a torn tail, and refuses a file damaged before its end.

#include "journal_file.h"

#include <catch2/catch_test_macros.hpp>
#include <fstream>
#include <future>
#include <thread>

#include "harness.h"
#include "mkt/testing/io_thread.h"

using namespace mkt::exchanged;
using namespace std::chrono_literals;

namespace {

using Loop = mkt::testing::IoThread;

mkt::exchange::Record cancel(std::uint64_t id) {
  return mkt::exchange::Command(mkt::exchange::CancelCommand{0, id, 0});
}

std::vector<std::uint64_t> replay(const std::string& path, ReplayStats& stats,
                                  std::string* error = nullptr) {
  Loop loop;
  std::vector<std::uint64_t> ids;
  auto file = JournalFile::open(
      {path}, mkt::runtime::Serial(loop.io()),
      [&](const mkt::exchange::Record& r) {
        ids.push_back(
            std::get<mkt::exchange::CancelCommand>(std::get<mkt::exchange::Command>(r)).order_id);
      },
      stats);
  if (!file && error != nullptr) *error = file.error();
  return ids;
}

}  // namespace

TEST_CASE("durable callbacks run in order, once each, in every sync mode") {
  for (const auto& [sync, delay] :
       {std::pair{mkt::runtime::SyncMode::fsync, 0us}, std::pair{mkt::runtime::SyncMode::none, 0us},
        std::pair{mkt::runtime::SyncMode::fsync, 200us}}) {
    mkt::exchanged::test::TempDir dir;
    const std::string path = dir.file("journal");
    std::vector<std::uint64_t> durable;
    {
      Loop loop;
      ReplayStats stats;
      JournalOptions options{path, sync, delay};
      const mkt::runtime::Serial strand(loop.io());
      auto file = JournalFile::open(
          options, strand, [](const auto&) {}, stats);
      REQUIRE(file);
      std::promise<void> done;
      boost::asio::post(strand, [&] {
        for (std::uint64_t id = 1; id <= 500; ++id) {
          (*file)->append(cancel(id), [&durable, id] { durable.push_back(id); });
          if (id == 250) (*file)->after_pending([&] { durable.push_back(0); });
        }
        (*file)->after_pending([&] { done.set_value(); });
      });
      REQUIRE(done.get_future().wait_for(20s) == std::future_status::ready);
      (*file)->close();
    }
    REQUIRE(durable.size() == 501);
    CHECK(durable[250] == 0);  // after record 250, before 251
    durable.erase(durable.begin() + 250);
    CHECK(std::is_sorted(durable.begin(), durable.end()));
    ReplayStats stats;
    CHECK(replay(path, stats).size() == 500);
  }
}

TEST_CASE("a torn tail is cut and damage before the end is refused") {
  mkt::exchanged::test::TempDir dir;
  const std::string path = dir.file("journal");
  std::string bytes;
  for (std::uint64_t id = 1; id <= 3; ++id) mkt::exchange::encode_record(cancel(id), bytes);
  std::ofstream(path, std::ios::binary) << bytes << std::string("\x10\x00", 2);
  ReplayStats stats;
  CHECK(replay(path, stats) == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(stats.torn_bytes_dropped == 2);
  ReplayStats again;
  CHECK(replay(path, again).size() == 3);
  CHECK(again.torn_bytes_dropped == 0);  // the cut was made on disk

  bytes[mkt::core::frame_header_bytes + 2] ^= 0x01;  // inside the first record
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  std::string error;
  ReplayStats damaged;
  replay(path, damaged, &error);
  CHECK(error == "journal " + path +
                     " is damaged: record at byte 0: checksum mismatch; it was left as it is");
}
