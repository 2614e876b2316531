// `accent serve` against clients that misbehave, while a well-behaved client checks that every answer it gets is
// still right: 10,000 fuzzed bodies, clients that vanish mid-request (in the head, in the body, while waiting for
// the answer), slow and silent clients, endless header lines, hostile Content-Length values, pipelined requests and
// many oversized bodies at once. The server must keep answering, stay within a memory bound, never crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "serve_fuzz_bodies.h"
#include "serve_model_fixture.h"
#include "serve_test_util.h"

using namespace accent::testing;
using json = nlohmann::json;

namespace {

const std::string kControl = R"({"inputs": "a gripping, funny film", "raw_scores": true})";

std::string request_bytes(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

class CliServeFault : public ServeModel {
 protected:
  // The control request's answer, fixed at the start; `check_control` compares against it: the same labels in the
  // same order, each raw score within 1e-6 relative. Not bit for bit: the server batches the control with whatever
  // else is waiting, and oneDNN may block a product of another row count differently (seen on an AVX2-only CPU:
  // 4e-8 relative; a wrong answer is off by far more).
  void remember_control(int port) {
    const HttpReply r = http_post(port, "/predict", kControl);
    ASSERT_EQ(r.status, 200) << r.body;
    control_ = r.body;
  }
  void check_control(int port, const std::string& when) {
    const HttpReply r = http_post(port, "/predict", kControl);
    EXPECT_EQ(r.status, 200) << when << ": " << r.body << r.error;
    const json got = json::parse(r.body, nullptr, false), want = json::parse(control_);
    ASSERT_TRUE(got.is_array() && got.size() == want.size()) << when << ": " << r.body;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i]["label"], want[i]["label"]) << when << ": " << r.body;
      const double g = got[i]["score"].get<double>(), w = want[i]["score"].get<double>();
      EXPECT_LE(std::fabs(g - w), 1e-6 * std::max(1.0, std::fabs(w))) << when << ": " << r.body << " vs " << control_;
    }
  }
  std::string control_;
};

}  // namespace

TEST_F(CliServeFault, TenThousandFuzzedBodies) {
  ServerProcess server("--model " + model() + " --precision fp32", file("fault_fuzz.log"));
  const int port = server.port();
  remember_control(port);
  const long rss_before = server.rss_kib();
  const std::vector<std::string> bodies = fuzzed_bodies(10000, 1312);
  std::atomic<size_t> next{0};
  std::atomic<int> ok{0}, refused{0}, wrong{0};
  std::mutex first_wrong_mutex;
  std::string first_wrong;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(60, 0);
      for (size_t i; (i = next++) < bodies.size();) {
        auto r = client.Post(i % 2 ? "/" : "/predict", bodies[i], "application/json");
        const json j = r ? json::parse(r->body, nullptr, false) : json();
        bool good = false;
        if (r && r->status == 200) {
          good = j.is_array() && !j.empty();
          ++ok;
        } else if (r && (r->status == 413 || r->status == 422)) {
          good = j.is_object() && j.contains("error") && j.value("error_type", "") == "Validation";
          ++refused;
        }
        if (!good) {
          ++wrong;
          std::lock_guard<std::mutex> lock(first_wrong_mutex);
          if (first_wrong.empty())
            first_wrong = "body " + std::to_string(i) + " " + bodies[i].substr(0, 300) + " -> " +
                          (r ? std::to_string(r->status) + " " + r->body.substr(0, 300) : httplib::to_string(r.error()));
        }
      }
    });
  for (int k = 0; k < 20; ++k) {
    check_control(port, "during the fuzzing");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0) << first_wrong;
  EXPECT_GT(ok.load(), 500);
  EXPECT_GT(refused.load(), 5000);
  check_control(port, "after the fuzzing");
  EXPECT_EQ(http_get(port, "/health").status, 200);
  const long rss_after = server.rss_kib();
  EXPECT_LT(rss_after - rss_before, 64 * 1024) << "RSS " << rss_before << " KiB -> " << rss_after << " KiB";
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServeFault, ClientsThatVanishMidRequest) {
  ServerProcess server("--model " + model() + " --precision fp32", file("fault_vanish.log"));
  const int port = server.port();
  remember_control(port);
  const std::string full = request_bytes("/predict", R"({"inputs": [["a gripping, funny film"], ["dull and far too long"]]})");
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    RawConnection c(port);
    ASSERT_TRUE(c.ok()) << "connection " << i << " refused";
    // Cut anywhere: in the request line, the headers, the body, or after the whole request (before the answer).
    const size_t cut = rng() % (full.size() + 1);
    c.send(full.substr(0, cut));
    if (i % 3 == 0) c.reset();
    else c.close();
    if (i % 50 == 0) check_control(port, "after vanishing client " + std::to_string(i));
  }
  // Many at once.
  std::vector<std::thread> vanishers;
  for (int t = 0; t < 16; ++t)
    vanishers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        RawConnection c(port);
        c.send(full.substr(0, (t * 31 + i * 17) % full.size()));
        c.reset();
      }
    });
  check_control(port, "with vanishing clients");
  for (auto& t : vanishers) t.join();
  check_control(port, "after");
  EXPECT_TRUE(server.alive());
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServeFault, SlowAndSilentClients) {
  ServerProcess server("--model " + model() + " --precision fp32 --read-timeout 1 --request-timeout 3",
                       file("fault_slow.log"));
  const int port = server.port();
  remember_control(port);
  const std::string full = request_bytes("/predict", R"({"inputs": "a gripping, funny film", "raw_scores": true})");
  // A slow client within the limits (one byte per 5 ms, under a second): answered, with the control's numbers.
  std::thread within([&] {
    RawConnection c(port);
    for (char ch : full) {
      c.send(std::string(1, ch));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::string response = c.read_all(std::chrono::seconds(5));
    EXPECT_EQ(status_of(response), 200) << response;
    EXPECT_NE(response.find(control_), std::string::npos) << response;
  });
  // A slowloris (one byte per 100 ms: the request would take ~15 s) is cut off at the 3 s request deadline.
  std::atomic<bool> slowloris_cut{false};
  std::thread slowloris([&] {
    RawConnection c(port);
    const auto start = std::chrono::steady_clock::now();
    for (char ch : full) {
      if (!c.send(std::string(1, ch))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(8)) break;
    }
    const std::string response = c.read_all(std::chrono::seconds(2));
    slowloris_cut = status_of(response) != 200;
  });
  // A silent client (half a request line, then nothing) is dropped after the 1 s read timeout.
  RawConnection silent(port);
  silent.send("POST /pre");
  const auto silent_start = std::chrono::steady_clock::now();
  const std::string nothing = silent.read_all(std::chrono::seconds(10));
  const double silent_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - silent_start).count();
  EXPECT_EQ(status_of(nothing), 0) << nothing;
  EXPECT_LT(silent_seconds, 8.0) << "the silent connection was not closed";
  // Meanwhile others are answered.
  for (int i = 0; i < 5; ++i) check_control(port, "beside slow clients");
  within.join();
  slowloris.join();
  EXPECT_TRUE(slowloris_cut.load());
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServeFault, HostileHeadsAndPipelining) {
  ServerProcess server("--model " + model() + " --precision fp32 --payload-limit 100000", file("fault_heads.log"));
  const int port = server.port();
  remember_control(port);
  const long rss_before = server.rss_kib();
  // An endless request line: cut off at the request size bound (payload limit + 64 KiB), never buffered whole.
  {
    RawConnection c(port);
    const std::string mib(1 << 20, 'a');
    int sent = 0;
    for (; sent < 32 && c.send(mib); ++sent) {
    }
    EXPECT_LT(sent, 32) << "the server kept reading an endless request line";
  }
  // An endless header, the same.
  {
    RawConnection c(port);
    c.send("GET /health HTTP/1.1\r\nX-Long: ");
    const std::string mib(1 << 20, 'b');
    int sent = 0;
    for (; sent < 32 && c.send(mib); ++sent) {
    }
    EXPECT_LT(sent, 32) << "the server kept reading an endless header";
  }
  // Garbage and hostile Content-Length values: an error status, never a hang or a crash.
  for (const std::string bad : {"GARBAGE\r\n\r\n", "POST /predict HTTP/1.1\r\nContent-Length: abc\r\n\r\n{}",
                                "POST /predict HTTP/1.1\r\nContent-Length: -1\r\n\r\n{}",
                                "POST /predict HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
                                "POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"}) {
    RawConnection c(port);
    c.send(bad);
    const std::string response = c.read_all(std::chrono::seconds(3));
    const int status = status_of(response);
    EXPECT_TRUE(status == 0 || status >= 400) << bad << " -> " << response;
  }
  // 50 pipelined requests on one connection: 50 answers, in order.
  {
    RawConnection c(port);
    std::string burst;
    for (int i = 0; i < 50; ++i) burst += request_bytes("/predict", kControl);
    ASSERT_TRUE(c.send(burst));
    std::string all;
    for (int tries = 0; tries < 100; ++tries) {
      all += c.read_all(std::chrono::milliseconds(100));
      size_t count = 0;
      for (size_t at = all.find(control_); at != std::string::npos; at = all.find(control_, at + 1)) ++count;
      if (count == 50) break;
    }
    size_t count = 0;
    for (size_t at = all.find(control_); at != std::string::npos; at = all.find(control_, at + 1)) ++count;
    EXPECT_EQ(count, 50u);
  }
  // 16 clients at once each sending a 10 MB chunked body: each cut at the payload limit (413).
  std::atomic<int> refused{0};
  std::vector<std::thread> big;
  for (int t = 0; t < 16; ++t)
    big.emplace_back([&] {
      RawConnection c(port);
      c.send("POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
      for (int i = 0; i < 160 && c.send(chunk); ++i) {
      }
      if (status_of(c.read_all(std::chrono::seconds(5))) == 413) ++refused;
    });
  for (auto& t : big) t.join();
  EXPECT_EQ(refused.load(), 16);
  check_control(port, "after hostile heads");
  const long rss_after = server.rss_kib();
  EXPECT_LT(rss_after - rss_before, 64 * 1024) << "RSS " << rss_before << " KiB -> " << rss_after << " KiB";
  EXPECT_EQ(server.stop(), 0) << server.log();
}
