#include "journal_file.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mkt::exchanged {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::expected<std::string, std::string> read_all(int fd, const std::string& path) {
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return bytes;
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected("cannot read journal " + path + ": " + errno_text());
    }
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
}

[[noreturn]] void die(const std::string& what) {
  spdlog::critical("journal: {}; stopping, nothing unwritten was acknowledged", what);
  spdlog::default_logger()->flush();
  std::abort();
}

}  // namespace

std::expected<std::unique_ptr<JournalFile>, std::string> JournalFile::open(
    JournalOptions options, runtime::Serial strand,
    const std::function<void(const exchange::Record&)>& replay, ReplayStats& stats) {
  const int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected("cannot open journal " + options.path + ": " + errno_text());
  auto bytes = read_all(fd, options.path);
  if (!bytes) {
    ::close(fd);
    return std::unexpected(bytes.error());
  }
  exchange::RecordReader reader(*bytes);
  exchange::Record record;
  exchange::RecordReader::Status status;
  while ((status = reader.next(record)) == exchange::RecordReader::Status::ok) {
    replay(record);
    ++stats.records;
  }
  if (status == exchange::RecordReader::Status::corrupt) {
    ::close(fd);
    return std::unexpected("journal " + options.path + " is damaged: " + reader.error() +
                           "; it was left as it is");
  }
  if (status == exchange::RecordReader::Status::torn) {
    stats.torn_bytes_dropped = bytes->size() - reader.offset();
    if (::ftruncate(fd, static_cast<off_t>(reader.offset())) != 0 || ::fsync(fd) != 0) {
      ::close(fd);
      return std::unexpected("cannot cut the torn tail of " + options.path + ": " + errno_text());
    }
  }
  if (::lseek(fd, static_cast<off_t>(reader.offset()), SEEK_SET) < 0) {
    ::close(fd);
    return std::unexpected("cannot seek in " + options.path + ": " + errno_text());
  }
  return std::unique_ptr<JournalFile>(new JournalFile(std::move(options), std::move(strand), fd));
}

JournalFile::JournalFile(JournalOptions options, runtime::Serial strand, int fd)
    : options_(std::move(options)),
      strand_(std::move(strand)),
      fd_(fd),
      timer_(strand_),
      writer_work_(writer_io_.get_executor()),
      writer_([this] { writer_io_.run(); }) {}

JournalFile::~JournalFile() {
  close();
  ::close(fd_);
}

void JournalFile::close() {
  writer_work_.reset();
  if (writer_.joinable()) writer_.join();
}

void JournalFile::append(const exchange::Record& record, std::function<void()> durable) {
  exchange::encode_record(record, gathering_);
  gathering_callbacks_.push_back(std::move(durable));
  schedule();
}

void JournalFile::after_pending(std::function<void()> fn) {
  if (gathering_callbacks_.empty() && !writer_busy_) {  // nothing appended or waiting before it
    fn();
    return;
  }
  gathering_callbacks_.push_back(std::move(fn));
  schedule();
}

void JournalFile::schedule() {
  if (writer_busy_ || gathering_callbacks_.empty()) return;
  if (options_.batch_delay.count() == 0) {
    start_batch();
    return;
  }
  if (timer_armed_) return;
  timer_armed_ = true;
  timer_.expires_after(options_.batch_delay);
  timer_.async_wait([this](boost::system::error_code) {
    timer_armed_ = false;
    if (!writer_busy_) start_batch();
  });
}

void JournalFile::start_batch() {
  writer_busy_ = true;
  batch_started_ = std::chrono::steady_clock::now();
  writing_.swap(gathering_);
  gathering_.clear();
  writing_callbacks_.swap(gathering_callbacks_);
  gathering_callbacks_.clear();
  if (writing_.empty() || options_.sync == runtime::SyncMode::none) {
    // Nothing to write (only after_pending callbacks, to run in order), or a write to the page
    // cache, which takes microseconds: done here, without a trip to the writer thread and back.
    // The callbacks still run from a post, after the requests already queued on the strand, which
    // gather into the next batch meanwhile.
    if (!writing_.empty()) write_batch();
    boost::asio::post(strand_, [this] { on_batch_written(writing_.size()); });
    return;
  }
  boost::asio::post(writer_io_, [this] {
    write_batch();
    boost::asio::post(strand_, [this] { on_batch_written(writing_.size()); });
  });
}

void JournalFile::write_batch() {
  std::size_t done = 0;
  while (done < writing_.size()) {
    const ssize_t n = ::write(fd_, writing_.data() + done, writing_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write to " + options_.path + " failed: " + errno_text());
    done += static_cast<std::size_t>(n);
  }
  if (options_.sync == runtime::SyncMode::fsync && ::fdatasync(fd_) != 0) {
    die("fdatasync of " + options_.path + " failed: " + errno_text());
  }
}

void JournalFile::on_batch_written(std::size_t bytes) {
  if (options_.batch_latency != nullptr && bytes > 0) {
    options_.batch_latency->observe(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now() - batch_started_)
                                        .count());
  }
  if (options_.bytes != nullptr) options_.bytes->add(bytes);
  writer_busy_ = false;
  auto callbacks = std::move(writing_callbacks_);
  writing_callbacks_.clear();
  writing_.clear();
  for (auto& callback : callbacks) callback();
  schedule();
}

}  // namespace mkt::exchanged
