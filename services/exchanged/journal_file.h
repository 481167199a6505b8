#pragma once
// The exchange's journal on disk: replayed on start, appended before anything is acknowledged.
//
// append() runs on the strand: it encodes the command into the batch being gathered and keeps the
// callback. With SyncMode::fsync a writer thread writes each batch with write() and fdatasync();
// with SyncMode::none the strand writes it itself (to the page cache). Then the batch's callbacks
// run on the strand, in order. While the writer is busy the next batch gathers (group commit); with
// batch_delay > 0 a batch also waits that long before it is written, to gather more. A failed write
// or sync ends the process: the venue would be ahead of its journal, and nothing unwritten has been
// acknowledged.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mkt/exchange/journal.h"
#include "mkt/metrics/registry.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/serial.h"

namespace mkt::exchanged {

// What the venue runs on: everything that touches it runs one piece at a time on this. A Serial
// rather than an Asio strand, so that an order session's request runs on the gRPC thread that read
// it when the venue is idle (mkt/runtime/serial.h).

struct JournalOptions {
  std::string path;
  runtime::SyncMode sync = runtime::SyncMode::fsync;
  std::chrono::microseconds batch_delay{0};
  // Optional: each batch's time from starting its write to written (and synced), and its bytes.
  metrics::Histogram* batch_latency = nullptr;
  metrics::Counter* bytes = nullptr;
};

struct ReplayStats {
  std::size_t records = 0;
  std::size_t torn_bytes_dropped = 0;
};

class JournalFile {
 public:
  // Opens (creating) the file and replays every record through `replay`, before returning. A torn
  // last record is cut off; damage before the end is an error and the file is left untouched.
  static std::expected<std::unique_ptr<JournalFile>, std::string> open(
      JournalOptions options, runtime::Serial strand,
      const std::function<void(const exchange::Record&)>& replay, ReplayStats& stats);
  ~JournalFile();

  // On the strand. `durable` runs on the strand once the record (and all before it) is written.
  void append(const exchange::Record& record, std::function<void()> durable);
  // On the strand: runs `fn` once everything appended so far is written.
  void after_pending(std::function<void()> fn);
  // Waits for the writer to finish what it has; call after the strand has stopped appending.
  void close();

 private:
  JournalFile(JournalOptions options, runtime::Serial strand, int fd);
  void schedule();
  void start_batch();
  void write_batch();  // writing_ to the file, synced as configured; ends the process on failure
  void on_batch_written(std::size_t bytes);

  JournalOptions options_;
  runtime::Serial strand_;
  int fd_;
  std::string gathering_;  // the next batch's bytes
  std::vector<std::function<void()>> gathering_callbacks_;
  std::string writing_;  // the batch in the writer's hands
  std::vector<std::function<void()>> writing_callbacks_;
  bool writer_busy_ = false;
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point batch_started_;
  boost::asio::steady_timer timer_;
  boost::asio::io_context writer_io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> writer_work_;
  std::thread writer_;
};

}  // namespace mkt::exchanged
