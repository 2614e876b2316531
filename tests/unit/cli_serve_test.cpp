// `accent serve` end to end, on a loopback port: every route (POST /predict, POST /, GET /health /info /metrics),
// /predict's numbers against `accent predict --top-k all` on the same texts, a request's answer independent of what
// it was batched with, TEI's error codes (413 too many inputs / body over the payload limit refused unread, 422 bad
// JSON / schema / UTF-8 / over-long input, 424 inference failure, 429 overloaded), a busy port refused, and the
// graceful shutdown (SIGTERM and SIGINT: what was accepted is answered, exit 0); a LoRA adapter served as predicted.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "serve_model_fixture.h"
#include "serve_test_util.h"

using namespace accent::testing;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;

json parsed(const HttpReply& r) {
  EXPECT_FALSE(r.body.empty()) << "status " << r.status << " " << r.error;
  return json::parse(r.body, nullptr, false);
}

// Expects a TEI error body with this status and error_type.
void expect_error(const HttpReply& r, int status, const std::string& error_type, const std::string& context) {
  EXPECT_EQ(r.status, status) << context << ": " << r.body << r.error;
  const json j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << context << ": " << r.body;
  EXPECT_EQ(j.value("error_type", ""), error_type) << context << ": " << r.body;
  EXPECT_FALSE(j.value("error", "").empty()) << context;
}

// Waits until /metrics reports `in_flight` classify requests in flight (or 10 s pass).
bool wait_in_flight(int port, int in_flight) {
  for (int i = 0; i < 500; ++i) {
    const HttpReply m = http_get(port, "/metrics");
    if (m.body.find("te_requests_in_flight " + std::to_string(in_flight) + "\n") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string post_head(const std::string& path, size_t content_length) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n\r\n";
}

class CliServe : public ServeModel {};

}  // namespace

TEST_F(CliServe, PredictEqualsAccentPredictOnTheSameTexts) {
  const std::vector<std::string> texts = sentences(20);
  std::string lines;
  for (const auto& t : texts) lines += t + "\n";
  lines += "a gripping, funny film\tdull and far too long\n";  // a pair
  {
    std::ofstream(file("inputs.txt")) << lines;
  }
  const CmdResult offline = run_command(kCli + " predict --model " + model() + " --precision fp32 --top-k all --input " +
                                        file("inputs.txt"), false);
  ASSERT_EQ(offline.rc, 0) << offline.out;
  std::vector<json> expected;
  std::istringstream out(offline.out);
  for (std::string line; std::getline(out, line);)
    if (!line.empty() && line[0] == '[') expected.push_back(json::parse(line));
  ASSERT_EQ(expected.size(), texts.size() + 1);

  ServerProcess server("--model " + model() + " --precision fp32", file("serve_equal.log"));
  json batch = json::array();
  for (const auto& t : texts) batch.push_back(json::array({t}));
  batch.push_back(json::array({"a gripping, funny film", "dull and far too long"}));
  const HttpReply r = http_post(server.port(), "/predict", json{{"inputs", batch}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json got = parsed(r);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(got[i].size(), 2u) << "all labels, as TEI returns them";
    for (size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(got[i][k]["label"], expected[i][k]["label"]) << "input " << i;
      // The same batch (all inputs of one request, sorted by length) as predict's: the same numbers exactly.
      EXPECT_EQ(got[i][k]["score"].get<double>(), expected[i][k]["score"].get<double>()) << "input " << i;
    }
  }
  // One text, and a pair given as TEI's two-string form: one list each, equal within fp32 noise of another batch.
  const json one = parsed(http_post(server.port(), "/predict", json{{"inputs", texts[3]}}.dump()));
  ASSERT_TRUE(one.is_array() && one.size() == 2 && one[0].is_object()) << one;
  EXPECT_EQ(one[0]["label"], expected[3][0]["label"]);
  EXPECT_NEAR(one[0]["score"].get<double>(), expected[3][0]["score"].get<double>(), 1e-6);
  const json pair = parsed(http_post(server.port(), "/predict",
                                     R"({"inputs": ["a gripping, funny film", "dull and far too long"]})"));
  ASSERT_TRUE(pair.is_array() && pair.size() == 2) << pair;
  EXPECT_NEAR(pair[0]["score"].get<double>(), expected.back()[0]["score"].get<double>(), 1e-6);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServe, AnswersDoNotDependOnWhatTheyWereBatchedWith) {
  ServerProcess server("--model " + model() + " --precision fp32", file("serve_batching.log"));
  const std::vector<std::string> texts = sentences(48, 20);
  // Alone, one at a time.
  std::vector<json> alone;
  for (const auto& t : texts) {
    const HttpReply r = http_post(server.port(), "/predict", json{{"inputs", t}, {"raw_scores", true}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    alone.push_back(parsed(r));
  }
  // All at once from 16 clients: the batching thread mixes them into shared forward passes.
  std::vector<json> together(texts.size());
  std::vector<std::thread> clients;
  for (size_t c = 0; c < 16; ++c)
    clients.emplace_back([&, c] {
      for (size_t i = c; i < texts.size(); i += 16)
        together[i] = json::parse(http_post(server.port(), "/predict", json{{"inputs", texts[i]}, {"raw_scores", true}}.dump()).body,
                                  nullptr, false);
    });
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(together[i].is_array()) << i << ": " << together[i];
    for (size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(together[i][k]["label"], alone[i][k]["label"]) << i;
      EXPECT_NEAR(together[i][k]["score"].get<double>(), alone[i][k]["score"].get<double>(), 1e-5) << i;
    }
  }
  const std::string metrics = http_get(server.port(), "/metrics").body;
  EXPECT_NE(metrics.find("te_request_success " + std::to_string(2 * texts.size()) + "\n"), std::string::npos) << metrics;
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServe, RoutesHealthInfoMetricsAndTheInferenceApi) {
  ServerProcess server("--model " + model() + " --precision fp32 --max-batch-tokens 4096 --max-client-batch-size 8",
                       file("serve_routes.log"));
  const int port = server.port();
  const HttpReply health = http_get(port, "/health");
  EXPECT_EQ(health.status, 200) << health.body;

  const json info = parsed(http_get(port, "/info"));
  EXPECT_EQ(info["model_id"], model());
  EXPECT_EQ(info["model_type"]["classifier"]["id2label"]["0"], "negative");
  EXPECT_EQ(info["model_type"]["classifier"]["label2id"]["positive"], 1);
  EXPECT_EQ(info["max_input_length"], 64);
  EXPECT_EQ(info["max_batch_tokens"], 4096);
  EXPECT_EQ(info["max_client_batch_size"], 8);
  EXPECT_EQ(info["max_concurrent_requests"], 512);

  // The Inference API (POST /): pipeline()'s shapes.
  const std::string text = "a gripping, funny film";
  const json tei = parsed(http_post(port, "/predict", json{{"inputs", text}}.dump()));
  const json legacy = parsed(http_post(port, "/", json{{"inputs", text}}.dump()));
  ASSERT_TRUE(legacy.is_array() && legacy.size() == 1 && legacy[0].is_object()) << legacy;
  EXPECT_EQ(legacy[0], tei[0]) << "the best label, as pipeline(text) without top_k";
  const json two = parsed(http_post(port, "/", json{{"inputs", {text, "dull"}}}.dump()));
  ASSERT_TRUE(two.is_array() && two.size() == 2 && two[1].is_object()) << two;
  const json top2 = parsed(http_post(port, "/", json{{"inputs", {text, "dull"}}, {"parameters", {{"top_k", 2}}}}.dump()));
  ASSERT_TRUE(top2.is_array() && top2.size() == 2 && top2[0].is_array() && top2[0].size() == 2) << top2;
  EXPECT_EQ(top2[0], tei);
  // function_to_apply none = TEI's raw_scores: the logits.
  const json raw = parsed(http_post(port, "/predict", json{{"inputs", text}, {"raw_scores", true}}.dump()));
  const json none = parsed(http_post(port, "/", json{{"inputs", text}, {"parameters", {{"top_k", 2}, {"function_to_apply", "none"}}}}.dump()));
  EXPECT_EQ(raw, none);
  // Softmax of the raw logits is the default score.
  const double l0 = raw[0]["score"].get<double>(), l1 = raw[1]["score"].get<double>();
  EXPECT_NEAR(tei[0]["score"].get<double>(), 1.0 / (1.0 + std::exp(l1 - l0)), 1e-6);
  const json pair = parsed(http_post(port, "/", R"({"inputs": {"text": "a gripping, funny film", "text_pair": "dull"}})"));
  ASSERT_TRUE(pair.is_array() && pair.size() == 1) << pair;

  const HttpReply missing = http_get(port, "/nope");
  expect_error(missing, 404, "Validation", "unknown route");

  const std::string metrics = http_get(port, "/metrics").body;
  for (const char* want : {"te_http_requests_total{route=\"/predict\",status=\"200\"} 2",
                           "te_http_requests_total{route=\"/\",status=\"200\"} 5",
                           "te_http_requests_total{route=\"/health\",status=\"200\"} 1",
                           "te_http_requests_total{route=\"other\",status=\"404\"} 1", "te_request_success 7\n",
                           "te_queue_size 0\n", "te_request_duration_bucket{le=\"+Inf\"} 7\n", "te_batch_size_bucket{le=\"1\"}",
                           "te_batch_tokens_count", "te_request_queue_duration_sum", "te_tokens_per_second "})
    EXPECT_NE(metrics.find(want), std::string::npos) << want << "\n" << metrics;
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServe, TeiErrorCodes) {
  ServerProcess server("--model " + model() + " --precision fp32 --max-client-batch-size 4 --payload-limit 4096",
                       file("serve_errors.log"));
  const int port = server.port();
  expect_error(http_post(port, "/predict", "{\"inputs\": "), 422, "Validation", "invalid JSON");
  expect_error(http_post(port, "/predict", ""), 422, "Validation", "empty body");
  expect_error(http_post(port, "/predict", R"({"input": "typo"})"), 422, "Validation", "wrong schema");
  expect_error(http_post(port, "/predict", R"({"inputs": 42})"), 422, "Validation", "wrong type");
  expect_error(http_post(port, "/predict", R"({"inputs": []})"), 422, "Validation", "empty inputs");
  expect_error(http_post(port, "/predict", "{\"inputs\": \"caf\xc3\x28\"}"), 422, "Validation", "invalid UTF-8");
  expect_error(http_post(port, "/", R"({"inputs": "x", "parameters": {"top_k": -1}})"), 422, "Validation", "bad top_k");
  // Over the model's 64 positions: refused unless truncate, which cuts it (and left keeps the end).
  std::string long_text;
  for (int i = 0; i < 80; ++i) long_text += "word ";
  long_text += "terrible awful";
  const HttpReply too_long = http_post(port, "/predict", json{{"inputs", long_text}}.dump());
  expect_error(too_long, 422, "Validation", "over-long input");
  EXPECT_NE(too_long.body.find("64 positions"), std::string::npos) << too_long.body;
  const HttpReply right = http_post(port, "/predict", json{{"inputs", long_text}, {"truncate", true}, {"raw_scores", true}}.dump());
  const HttpReply left = http_post(port, "/predict",
                                   json{{"inputs", long_text}, {"truncate", true}, {"truncation_direction", "left"}, {"raw_scores", true}}.dump());
  ASSERT_EQ(right.status, 200) << right.body;
  ASSERT_EQ(left.status, 200) << left.body;
  EXPECT_NE(right.body, left.body) << "left truncation keeps other tokens than right";
  // 413: more inputs than --max-client-batch-size.
  expect_error(http_post(port, "/predict", R"({"inputs": ["a", "b", "c", "d", "e"]})"), 413, "Validation", "batch size");
  expect_error(http_post(port, "/", R"({"inputs": ["a", "b", "c", "d", "e"]})"), 413, "Validation", "batch size /");
  // 413: a body over --payload-limit is refused from its Content-Length, before the body is sent at all.
  {
    RawConnection c(port);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send(post_head("/predict", 50'000'000)));
    const std::string response = c.read_all(std::chrono::seconds(10));
    EXPECT_EQ(status_of(response), 413) << response;
    EXPECT_NE(response.find("\"error_type\":\"Validation\""), std::string::npos) << response;
  }
  // 413: a chunked body is cut off once it passes the limit.
  {
    RawConnection c(port);
    ASSERT_TRUE(c.ok());
    std::string chunked = "POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string chunk(1000, ' ');
    for (int i = 0; i < 10; ++i) chunked += "3e8\r\n" + chunk + "\r\n";
    c.send(chunked);
    const std::string response = c.read_all(std::chrono::seconds(10));
    EXPECT_EQ(status_of(response), 413) << response;
  }
  // The server still answers.
  EXPECT_EQ(http_post(port, "/predict", R"({"inputs": "fine"})").status, 200);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServe, OverloadedIs429) {
  ServerProcess server("--model " + model() + " --precision fp32 --max-concurrent-requests 2", file("serve_429.log"));
  const int port = server.port();
  const std::string body = R"({"inputs": "a gripping, funny film"})";
  // Two requests in flight: their bodies are half sent.
  RawConnection a(port), b(port);
  ASSERT_TRUE(a.send(post_head("/predict", body.size()) + body.substr(0, 10)));
  ASSERT_TRUE(b.send(post_head("/predict", body.size()) + body.substr(0, 10)));
  ASSERT_TRUE(wait_in_flight(port, 2)) << http_get(port, "/metrics").body;
  expect_error(http_post(port, "/predict", body), 429, "Overloaded", "third request");
  // The two finish and are answered; then there is room again.
  ASSERT_TRUE(a.send(body.substr(10)));
  ASSERT_TRUE(b.send(body.substr(10)));
  const std::string ra = a.read_all(std::chrono::milliseconds(1500)), rb = b.read_all(std::chrono::milliseconds(1500));
  EXPECT_EQ(status_of(ra), 200) << ra;
  EXPECT_EQ(status_of(rb), 200) << rb;
  a.close();
  b.close();
  ASSERT_TRUE(wait_in_flight(port, 0));
  EXPECT_EQ(http_post(port, "/predict", body).status, 200);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServe, BrokenModelIs424AndUnhealthy) {
  // A copy of the model whose embedding LayerNorm scales by 3e38: the weights are finite (loading accepts them),
  // the activations overflow to inf and the logits are NaN.
  const std::string broken = file("broken");
  std::filesystem::copy(model(), broken, std::filesystem::copy_options::recursive);
  const std::string script =
      "import json,struct,sys\n"
      "p=sys.argv[1]+'/model.safetensors'\n"
      "b=bytearray(open(p,'rb').read())\n"
      "n=struct.unpack('<Q',b[:8])[0]\n"
      "e=json.loads(b[8:8+n])['bert.embeddings.LayerNorm.weight']\n"
      "s,t=e['data_offsets']\n"
      "b[8+n+s:8+n+t]=struct.pack('<f',3e38)*((t-s)//4)\n"
      "open(p,'wb').write(b)\n";
  {
    std::ofstream(file("nan.py")) << script;
  }
  ASSERT_EQ(run_command("/usr/bin/python3 " + file("nan.py") + " " + broken).rc, 0);
  ServerProcess server("--model " + broken + " --precision fp32", file("serve_424.log"));
  expect_error(http_post(server.port(), "/predict", R"({"inputs": "anything"})"), 424, "Backend", "NaN logits");
  expect_error(http_get(server.port(), "/health"), 503, "Unhealthy", "health of a broken model");
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(CliServe, ABusyPortIsAnError) {
  ServerProcess first("--model " + model(), file("serve_first.log"));
  const CmdResult second = run_command(kCli + " serve --model " + model() + " --host 127.0.0.1 --port " +
                                       std::to_string(first.port()));
  EXPECT_EQ(second.rc, 1) << second.out;
  EXPECT_NE(second.out.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())), std::string::npos) << second.out;
  EXPECT_EQ(http_post(first.port(), "/predict", R"({"inputs": "still mine"})").status, 200);
  EXPECT_EQ(first.stop(), 0) << first.log();
}

TEST_F(CliServe, SigtermAnswersWhatWasAcceptedThenExitsZero) {
  for (int sig : {SIGTERM, SIGINT}) {
    ServerProcess server("--model " + model() + " --precision fp32", file("serve_term.log"));
    const int port = server.port();
    const std::string body = R"({"inputs": ["a gripping, funny film", "dull and far too long"]})";
    // A request half sent when the signal arrives, and an idle keep-alive connection.
    RawConnection half(port), idle(port);
    ASSERT_TRUE(half.send(post_head("/predict", body.size()) + body.substr(0, 20)));
    ASSERT_TRUE(wait_in_flight(port, 1));
    // Clients busy sending whole requests while the signal comes.
    std::atomic<bool> go{true};
    std::atomic<int> ok{0}, refused{0}, other{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c)
      clients.emplace_back([&] {
        while (go.load()) {
          const HttpReply r = http_post(port, "/predict", body);
          if (r.status == 200 && json::parse(r.body, nullptr, false).is_array()) ++ok;
          else if (r.status == 0) ++refused;  // after the listening socket closed: connection refused
          else ++other;
        }
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(server.pid(), sig);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(half.send(body.substr(20)));
    const std::string answer = half.read_all(std::chrono::seconds(5));
    EXPECT_EQ(status_of(answer), 200) << answer;
    const int code = server.stop(sig, std::chrono::seconds(30));
    go = false;
    for (auto& t : clients) t.join();
    EXPECT_EQ(code, 0) << server.log();
    EXPECT_GT(ok.load(), 0);
    EXPECT_EQ(other.load(), 0) << "every accepted request was answered with its result";
    EXPECT_NE(server.log().find("stopped"), std::string::npos) << server.log();
  }
}

TEST_F(CliServe, ALoraAdapterServesWhatPredictGives) {
  // An adapter trained on the fixture's model; served and predicted on that base.
  const std::string adapter = file("adapter");
  const CmdResult trained = run_command(kCli + " train --model " + model() + " --train-file " + file("train.csv") +
                                        " --output-dir " + adapter + " --max-steps 2 --max-length 32" +
                                        " --per-device-train-batch-size 8 --progress none --seed 5 --precision fp32 --lora");
  ASSERT_EQ(trained.rc, 0) << trained.out;
  ASSERT_TRUE(std::filesystem::exists(adapter + "/adapter_config.json"));
  const std::string text = "a gripping, funny film";
  const CmdResult offline = run_command(kCli + " predict --model " + adapter + " --precision fp32 --top-k all " +
                                        shell_quote(text), false);
  ASSERT_EQ(offline.rc, 0) << offline.out;
  const json expected = json::parse(offline.out.substr(offline.out.find('[')));
  ServerProcess server("--model " + adapter + " --precision fp32", file("serve_lora.log"));
  const json got = parsed(http_post(server.port(), "/predict", json{{"inputs", text}}.dump()));
  ASSERT_EQ(got.size(), expected.size()) << got;
  for (size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k]["label"], expected[k]["label"]);
    EXPECT_EQ(got[k]["score"].get<double>(), expected[k]["score"].get<double>());
  }
  EXPECT_EQ(server.stop(), 0) << server.log();
}
