// dist/tcp_store.h — the rendezvous: a small key-value store served by rank 0 over TCP (like torch's TCPStore).
//
// Gloo connects its ranks through any gloo::rendezvous::Store: each rank publishes its listening address under a
// key and reads the others' (gloo::rendezvous::Context::connectFullMesh). Debian's Gloo ships file, hash and Redis
// stores but no TCP one, so this is that piece: rank 0 listens on MASTER_ADDR:MASTER_PORT; every rank (rank 0 too)
// is a client. Values are opaque bytes. All collective traffic then flows over Gloo's own TCP pairs, not here.
//
// The server also knows which rank each connection belongs to, so when a collective fails the survivors can ask
// which ranks went away without saying goodbye (lost_ranks()) and name them in the error.
//
// Wire format (both directions): op (1 byte), then length-prefixed (u32, little endian) strings as the op needs.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gloo/rendezvous/store.h>

namespace accent {

class TcpStoreServer;  // rank 0's listening side (tcp_store.cpp)

class TcpStore : public gloo::rendezvous::Store {
 public:
  // Rank 0 starts the server on addr:port first (throws naming the address when it cannot listen, e.g. the port
  // is taken); every rank then connects, retrying until `timeout` (the other ranks may start later).
  TcpStore(const std::string& addr, int port, int rank, std::chrono::milliseconds timeout);
  ~TcpStore() override;

  void set(const std::string& key, const std::vector<char>& data) override;
  // Blocks until the key exists (up to the timeout; then throws naming the key).
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

  // Ranks whose connection to the store closed without a goodbye (the process died), ascending. Throws when the
  // store itself is unreachable (rank 0 is gone).
  std::vector<int> lost_ranks();
  // Says goodbye (a clean exit); the destructor does it too.
  void close();

 private:
  std::vector<char> request(char op, const std::vector<std::string>& fields);
  int fd_ = -1;
  int rank_ = 0;
  std::string where_;  // "addr:port" for messages
  std::chrono::milliseconds timeout_;
  std::unique_ptr<TcpStoreServer> server_;
};

}  // namespace accent
