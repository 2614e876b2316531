#include "dist/tcp_store.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"

namespace accent {

namespace {

enum Op : char {
  kHello = 'H',    // rank → store: this connection is rank <field 0>
  kSet = 'S',      // key, value → "ok"
  kGet = 'G',      // key, timeout ms → "1"+value, or "0" when the key did not appear in time
  kLost = 'L',     // → the lost ranks, comma-separated
  kBye = 'B',      // clean goodbye (no reply)
};

// Sends/receives exactly n bytes; false when the peer closed or the socket failed.
bool send_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
bool recv_all(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool send_string(int fd, const std::string& s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  const unsigned char len[4] = {static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
                                static_cast<unsigned char>(n >> 16), static_cast<unsigned char>(n >> 24)};
  return send_all(fd, len, 4) && send_all(fd, s.data(), s.size());
}
bool recv_string(int fd, std::string& s) {
  unsigned char len[4];
  if (!recv_all(fd, len, 4)) return false;
  const uint32_t n = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<uint32_t>(len[3]) << 24);
  if (n > (1u << 30)) return false;
  s.resize(n);
  return recv_all(fd, s.data(), n);
}

addrinfo* resolve(const std::string& addr, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(addr.c_str(), std::to_string(port).c_str(), &hints, &res);
  ACCENT_CHECK(rc == 0 && res != nullptr, "rendezvous: cannot resolve MASTER_ADDR \"", addr, "\": ", gai_strerror(rc));
  return res;
}

}  // namespace

// Rank 0's side: one thread accepts, one thread per connection serves its requests.
class TcpStoreServer {
 public:
  TcpStoreServer(const std::string& addr, int port) {
    addrinfo* res = resolve(addr, port, true);
    std::string last_error;
    for (addrinfo* a = res; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
        listen_fd_ = fd;
      } else {
        last_error = std::strerror(errno);
        ::close(fd);
      }
    }
    freeaddrinfo(res);
    ACCENT_CHECK(listen_fd_ >= 0, "rendezvous: rank 0 cannot listen on ", addr, ":", port, " (", last_error,
                 "); is another job using MASTER_PORT ", port, "? Choose another with --master-port");
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TcpStoreServer() {
    stopping_ = true;
    cv_.notify_all();
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(client_threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard<std::mutex> lock(mu_);
      client_fds_.insert(fd);
      client_threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    int rank = -1;
    bool said_bye = false;
    for (;;) {
      char op = 0;
      if (!recv_all(fd, &op, 1)) break;
      std::string a, b;
      if (op == kHello) {
        if (!recv_string(fd, a)) break;
        rank = std::atoi(a.c_str());
      } else if (op == kSet) {
        if (!recv_string(fd, a) || !recv_string(fd, b)) break;
        {
          std::lock_guard<std::mutex> lock(mu_);
          kv_[a] = b;
        }
        cv_.notify_all();
        if (!send_string(fd, "ok")) break;
      } else if (op == kGet) {
        if (!recv_string(fd, a) || !recv_string(fd, b)) break;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atoll(b.c_str()));
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_until(lock, deadline, [&] { return stopping_ || kv_.count(a) > 0; });
        const auto it = kv_.find(a);
        const std::string reply = it == kv_.end() ? std::string("0") : "1" + it->second;
        lock.unlock();
        if (!send_string(fd, reply)) break;
      } else if (op == kLost) {
        std::string list;
        {
          std::lock_guard<std::mutex> lock(mu_);
          for (int r : lost_) list += (list.empty() ? "" : ",") + std::to_string(r);
        }
        if (!send_string(fd, list)) break;
      } else if (op == kBye) {
        said_bye = true;
        break;
      } else {
        break;  // not our protocol: drop the connection
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (rank >= 0 && !said_bye && !stopping_) lost_.insert(rank);
    client_fds_.erase(fd);
    ::close(fd);
  }

  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> kv_;
  std::set<int> lost_;
  std::set<int> client_fds_;
  std::vector<std::thread> client_threads_;
};

TcpStore::TcpStore(const std::string& addr, int port, int rank, std::chrono::milliseconds timeout)
    : rank_(rank), where_(addr + ":" + std::to_string(port)), timeout_(timeout) {
  if (rank == 0) server_ = std::make_unique<TcpStoreServer>(addr, port);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_error = "no address";
  while (fd_ < 0) {
    addrinfo* res = resolve(addr, port, false);
    for (addrinfo* a = res; a != nullptr && fd_ < 0; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        last_error = std::strerror(errno);
        ::close(fd);
      }
    }
    freeaddrinfo(res);
    if (fd_ >= 0) break;
    ACCENT_CHECK(std::chrono::steady_clock::now() < deadline, "rendezvous: rank ", rank, " could not reach rank 0 at ",
                 where_, " within ", timeout.count() / 1000, " s (", last_error,
                 "); is rank 0 running with the same MASTER_ADDR and MASTER_PORT?");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const char op = kHello;
  ACCENT_CHECK(send_all(fd_, &op, 1) && send_string(fd_, std::to_string(rank)), "rendezvous: lost the connection to ",
               where_);
}

TcpStore::~TcpStore() {
  close();
  server_.reset();
}

void TcpStore::close() {
  if (fd_ < 0) return;
  const char op = kBye;
  send_all(fd_, &op, 1);
  ::close(fd_);
  fd_ = -1;
}

std::vector<char> TcpStore::request(char op, const std::vector<std::string>& fields) {
  ACCENT_CHECK(fd_ >= 0, "rendezvous: the store connection is closed");
  bool ok = send_all(fd_, &op, 1);
  for (const std::string& f : fields) ok = ok && send_string(fd_, f);
  std::string reply;
  ok = ok && recv_string(fd_, reply);
  ACCENT_CHECK(ok, "rendezvous: lost the connection to the store at ", where_,
               " (rank 0, which hosts it, has exited or is unreachable)");
  return std::vector<char>(reply.begin(), reply.end());
}

void TcpStore::set(const std::string& key, const std::vector<char>& data) {
  request(kSet, {key, std::string(data.begin(), data.end())});
}

std::vector<char> TcpStore::get(const std::string& key) {
  std::vector<char> reply = request(kGet, {key, std::to_string(timeout_.count())});
  ACCENT_CHECK(!reply.empty() && reply[0] == '1', "rendezvous: rank ", rank_, " waited ", timeout_.count() / 1000,
               " s for \"", key, "\" at ", where_, "; a rank did not arrive (all ranks must start within the timeout)");
  return std::vector<char>(reply.begin() + 1, reply.end());
}

void TcpStore::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

void TcpStore::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  for (const std::string& key : keys) {
    std::vector<char> reply = request(kGet, {key, std::to_string(timeout.count())});
    ACCENT_CHECK(!reply.empty() && reply[0] == '1', "rendezvous: rank ", rank_, " waited ", timeout.count() / 1000,
                 " s for \"", key, "\" at ", where_, "; a rank did not arrive (all ranks must start within the timeout)");
  }
}

std::vector<int> TcpStore::lost_ranks() {
  const std::vector<char> reply = request(kLost, {});
  std::vector<int> ranks;
  std::string cur;
  for (char c : reply) {
    if (c == ',') {
      ranks.push_back(std::atoi(cur.c_str()));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) ranks.push_back(std::atoi(cur.c_str()));
  return ranks;
}

}  // namespace accent
