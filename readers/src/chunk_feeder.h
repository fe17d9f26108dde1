// ChunkFeeder: runs an archive's read jobs on worker threads — each job
// decompresses one or more tables' COPY text — and hands the digest pipeline
// chunks of whole rows from all of them, through a bounded queue. Buffers
// circulate between the workers and the pipeline (swapped, never copied), so
// memory is bounded by the queue depth and the workers, not by table size.
// Internal to readers/.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vouch/io_buffer.h"
#include "vouch/readers/byte_source.h"
#include "vouch/readers/table_stream.h"

namespace vouch {

class ChunkFeeder {
 public:
  using Job = std::function<Status(ChunkFeeder&)>;

  // `workers` threads run `jobs` (in order, each job on one thread) once the
  // first chunk is asked for; after the last job, `finish` runs on the
  // consumer's thread (structural checks that need every job done). A line
  // longer than `max_row` bytes is an error.
  ChunkFeeder(int workers, size_t max_row, std::vector<Job> jobs, std::function<Status()> finish);
  ~ChunkFeeder();  // stops the workers and waits for them
  ChunkFeeder(const ChunkFeeder&) = delete;
  ChunkFeeder& operator=(const ChunkFeeder&) = delete;

  // Consumer side: the next chunk of rows (its buffer swapped with `chunk`'s),
  // false once every job and `finish` succeeded, or the first error.
  Result<bool> Next(RowChunk& chunk, size_t target);

  // Worker side: reads `text`, the COPY data of table `t`, to its end and
  // queues its rows. The text must end with the "\." line followed by exactly
  // two empty lines (pg_dump's dumpTableData_copy), nothing else after it.
  // `where` names the data for messages (file, or archive and block offset).
  Status FeedCopyText(const TableInfo& t, uint32_t index, ByteSource& text, const std::string& where);

  // True once the run failed or is being torn down: jobs should return.
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }

 private:
  struct Filled {
    const TableInfo* table;
    uint32_t index;
    uint64_t offset;
    IoBuffer data;
    size_t size;
    bool last = false;  // the table's last chunk
  };
  void Run();
  IoBuffer TakeBuffer();
  Status Push(Filled f);
  void Fail(const Status& st);

  const int workers_;
  const size_t max_row_;
  std::vector<Job> jobs_;
  std::function<Status()> finish_;
  size_t target_ = 0;
  size_t max_ready_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_job_{0};
  std::atomic<bool> stop_{false};

  std::mutex mu_;
  std::condition_variable ready_cv_, space_cv_;
  std::deque<Filled> ready_;
  std::vector<IoBuffer> free_;
  int running_ = 0;
  bool started_ = false, finished_ = false;
  Status error_;
};

}  // namespace vouch
