#include "storage_writer.h"

#include <boost/asio/post.hpp>

namespace mkt::validatord {

StorageWriter::StorageWriter(RaftStorage& storage, runtime::Strand strand)
    : storage_(storage), strand_(std::move(strand)), thread_([this] { loop(); }) {}

StorageWriter::~StorageWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  thread_.join();
}

void StorageWriter::save(std::shared_ptr<const raft::Ready> ready, Done done) {
  push([this, ready = std::move(ready)] { return storage_.save(*ready); }, std::move(done));
}

std::expected<std::uint64_t, std::string> StorageWriter::save_here(const raft::Ready& ready) {
  return run([&] { return storage_.save(ready); });
}

std::expected<std::uint64_t, std::string> StorageWriter::run(const Job& job) {
  if (auto done = job(); !done) return std::unexpected(std::move(done.error()));
  return storage_.wal_bytes();
}

void StorageWriter::compact(raft::Snapshot snapshot, raft::HardState hard_state,
                            std::vector<raft::Entry> entries, std::vector<raft::CommitMark> marks,
                            Done done) {
  push(
      [this, snapshot = std::move(snapshot), hard_state, entries = std::move(entries),
       marks = std::move(marks)] { return storage_.compact(snapshot, hard_state, entries, marks); },
      std::move(done));
}

void StorageWriter::push(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.emplace_back(std::move(job), std::move(done));
  }
  wake_.notify_one();
}

void StorageWriter::loop() {
  for (;;) {
    std::pair<Job, Done> next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      next = std::move(jobs_.front());
      jobs_.pop_front();
    }
    auto result = run(next.first);
    boost::asio::post(
        strand_, [done = std::move(next.second), result = std::move(result)] { done(result); });
  }
}

}  // namespace mkt::validatord
