// serve/connection_threads.h — the threads that serve accepted connections (cpp-httplib's TaskQueue).
//
// httplib's default pool has a fixed number of threads (8 on most machines), and a keep-alive connection holds its
// thread between requests: 64 concurrent clients on 8 threads meant 56 waited for another client to hang up. Here a
// thread is started for each connection while fewer than `max_threads` are busy, and kept for the next one when its
// connection ends; past `max_threads` connections wait in order. shutdown() lets queued connections run, then joins.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "io/httplib_build.h"

namespace accent {

class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max_threads);
  ~ConnectionThreads() override;

  void enqueue(std::function<void()> job) override;
  void shutdown() override;

 private:
  void work();

  size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace accent
