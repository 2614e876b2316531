// Tests for io/hub: from_pretrained-style resolution against a fake Hugging Face Hub served on 127.0.0.1 by the
// test itself (never the internet): cache layout, 404s, auth, redirects, interrupted downloads + resume, offline
// mode and cache hits.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "io/httplib_build.h"
#include "io/hub.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace accent::testing;

using namespace accent;
namespace fs = std::filesystem;

namespace {
struct HubFile {
  std::string content;
  std::string etag;
  bool lfs = false;  // served through a 302 to /cdn/<etag> like the hub does for LFS files
};

// A minimal Hub: GET/HEAD /{repo}/resolve/{revision}/{file}, LFS files behind a CDN redirect.
class FakeHub {
 public:
  std::map<std::string, std::map<std::string, HubFile>> repos;  // repo id → file → contents
  std::string commit = "0123456789abcdef0123456789abcdef01234567";
  std::string private_repo = "org/private", token = "secret-token";
  std::map<std::string, int> cut_next_downloads;  // etag → how many GETs to cut after half the body
  std::map<std::string, std::string> renamed;     // old repo id → new one (relative 307 like the hub)

  FakeHub() {
    server_.Get(R"(/(.+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      resolve(req, res);
    });
    server_.Get(R"(/cdn/(.+))", [this](const httplib::Request& req, httplib::Response& res) { cdn(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeHub() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  size_t count(const std::string& prefix) {
    size_t n = 0;
    for (const auto& l : log())
      if (l.rfind(prefix, 0) == 0) ++n;
    return n;
  }

 private:
  void record(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(line);
  }

  void resolve(const httplib::Request& req, httplib::Response& res) {
    const std::string repo = req.matches[1], revision = req.matches[2], file = req.matches[3];
    record(req.method + " " + req.path + " auth=" + req.get_header_value("Authorization"));
    if (renamed.count(repo)) {
      res.status = 307;
      res.set_header("Location", "/" + renamed[repo] + "/resolve/" + revision + "/" + file);
      return;
    }
    if (!repos.count(repo)) {
      res.status = 401;  // the hub answers 401 for unknown repos to anonymous users
      res.set_header("X-Error-Code", "RepoNotFound");
      return;
    }
    if (repo == private_repo && req.get_header_value("Authorization") != "Bearer " + token) {
      res.status = 401;
      res.set_header("X-Error-Code", "GatedRepo");
      return;
    }
    auto& files = repos[repo];
    if (!files.count(file)) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      res.set_header("X-Repo-Commit", commit);
      return;
    }
    const HubFile& f = files[file];
    res.set_header("X-Repo-Commit", commit);
    if (f.lfs) {
      res.status = 302;
      res.set_header("Location", endpoint() + "/cdn/" + f.etag);
      res.set_header("X-Linked-Etag", "\"" + f.etag + "\"");
      res.set_header("X-Linked-Size", std::to_string(f.content.size()));
      return;
    }
    res.set_header("ETag", "\"" + f.etag + "\"");
    res.set_content(f.content, "application/octet-stream");
  }

  void cdn(const httplib::Request& req, httplib::Response& res) {
    const std::string etag = req.matches[1];
    record(req.method + " /cdn/" + etag + " range=" + req.get_header_value("Range") +
           " auth=" + req.get_header_value("Authorization"));
    const HubFile* found = nullptr;
    for (const auto& [repo, files] : repos)
      for (const auto& [name, f] : files)
        if (f.etag == etag) found = &f;
    if (!found) {
      res.status = 404;
      return;
    }
    const std::string content = found->content;
    bool cut = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cut_next_downloads[etag] > 0 && !req.has_header("Range")) {
        --cut_next_downloads[etag];
        cut = true;
      }
    }
    if (cut) {
      // Announce the full length, send half, drop the connection.
      res.set_content_provider(content.size(), "application/octet-stream",
                               [content](size_t offset, size_t, httplib::DataSink& sink) {
                                 if (offset >= content.size() / 2) return false;
                                 sink.write(content.data(), content.size() / 2);
                                 return true;
                               });
      return;
    }
    res.set_content(content, "application/octet-stream");  // httplib answers a Range request with 206
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> log_;
};

std::string tiny_safetensors() {
  std::map<std::string, Tensor> t;
  t["w"] = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  t["b"] = Tensor::from_vector({3}, {0.5f, -1, 2});
  return safetensors_bytes(t);
}

void add_tiny_repo(FakeHub& hub, const std::string& id) {
  auto& files = hub.repos[id];
  std::string tag = id;
  for (char& c : tag)
    if (c == '/') c = '_';
  files["config.json"] = {R"({"model_type": "bert", "hidden_size": 3})", "etag-config-" + tag};
  files["vocab.txt"] = {"[PAD]\n[UNK]\nhello\n", "etag-vocab-" + tag};
  files["tokenizer_config.json"] = {R"({"do_lower_case": true})", "etag-tokcfg-" + tag};
  files["model.safetensors"] = {tiny_safetensors(), "sha256-weights-" + tag, true};
}

HubOptions options_for(const FakeHub& hub, const fs::path& cache) {
  HubOptions o;
  o.endpoint = hub.endpoint();
  o.cache_dir = cache.string();
  return o;
}

std::string expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "expected \"" << n << "\" in: " << msg;
    return msg;
  }
  return "";
}
}  // namespace

TEST(Hub, DownloadsIntoTheHfCacheLayoutThenHitsTheCache) {
  FakeHub hub;
  add_tiny_repo(hub, "org/tiny");
  TempDir cache;
  const HubOptions o = options_for(hub, cache.path);
  const std::string snapshot = resolve_pretrained("org/tiny", default_pretrained_files(), o);
  const fs::path repo = cache.path / "models--org--tiny";
  EXPECT_EQ(fs::path(snapshot), repo / "snapshots" / hub.commit);
  EXPECT_EQ(read_file((repo / "refs" / "main").string()), hub.commit);
  // Symlinks into blobs/<etag> exactly like huggingface_hub (LFS files named by X-Linked-Etag).
  EXPECT_TRUE(fs::is_symlink(fs::path(snapshot) / "config.json"));
  EXPECT_EQ(fs::read_symlink(fs::path(snapshot) / "config.json"), fs::path("../../blobs/etag-config-org_tiny"));
  EXPECT_EQ(fs::read_symlink(fs::path(snapshot) / "model.safetensors"), fs::path("../../blobs/sha256-weights-org_tiny"));
  EXPECT_EQ(read_file(snapshot + "/vocab.txt"), hub.repos["org/tiny"]["vocab.txt"].content);
  EXPECT_EQ(read_file(snapshot + "/model.safetensors"), hub.repos["org/tiny"]["model.safetensors"].content);
  EXPECT_TRUE(fs::exists(repo / ".no_exist" / hub.commit / "tokenizer.json"));
  EXPECT_TRUE(fs::exists(repo / ".no_exist" / hub.commit / "model.safetensors.index.json") == false);
  EXPECT_FALSE(fs::exists(fs::path(snapshot) / "tokenizer.json"));
  for (const auto& de : fs::directory_iterator(repo / "blobs"))
    EXPECT_EQ(de.path().extension(), "") << "leftover " << de.path();
  auto weights = SafetensorsFile::open(snapshot + "/model.safetensors");
  EXPECT_EQ(weights->load("b").f32()[2], 2.0f);
  // The weights came from the CDN redirect, once.
  EXPECT_EQ(hub.count("GET /cdn/"), 1u);

  // Second resolve: one HEAD pins the commit, nothing is downloaded again.
  const size_t gets_before = hub.count("GET ");
  EXPECT_EQ(resolve_pretrained("org/tiny", default_pretrained_files(), o), snapshot);
  EXPECT_EQ(hub.count("GET "), gets_before);
  EXPECT_EQ(hub.count("HEAD /org/tiny/resolve/main/config.json"), 2u);

  // Offline: the cache alone, no request at all.
  const size_t requests = hub.log().size();
  HubOptions offline = o;
  offline.offline = true;
  EXPECT_EQ(resolve_pretrained("org/tiny", default_pretrained_files(), offline), snapshot);
  EXPECT_EQ(hub.log().size(), requests);

  // Server gone: falls back to the cache like huggingface_hub on a connection error.
  hub.stop();
  EXPECT_EQ(resolve_pretrained("org/tiny", default_pretrained_files(), o), snapshot);
}

TEST(Hub, OfflineWithoutCacheNamesWhatIsMissing) {
  TempDir cache;
  HubOptions o;
  o.offline = true;
  o.cache_dir = cache.path.string();
  o.endpoint = "http://127.0.0.1:9";  // never contacted
  expect_error([&] { resolve_pretrained("org/absent", default_pretrained_files(), o); },
               {"org/absent", "not in the cache", "offline"});
  // A cached snapshot lacking its weights: the error names model.safetensors.
  const fs::path snap = cache.path / "models--org--partial" / "snapshots" / "abc";
  fs::create_directories(snap);
  std::ofstream(snap / "config.json") << "{}";
  fs::create_directories(cache.path / "models--org--partial" / "refs");
  std::ofstream(cache.path / "models--org--partial" / "refs" / "main") << "abc";
  expect_error([&] { resolve_pretrained("org/partial", default_pretrained_files(), o); },
               {"model.safetensors", "missing from the cache", "offline"});
  // Without weights wanted it resolves.
  EXPECT_EQ(resolve_pretrained("org/partial", {"config.json", "vocab.txt"}, o), snap.string());
}

TEST(Hub, TokenIsSentAndRequiredForPrivateRepos) {
  FakeHub hub;
  add_tiny_repo(hub, "org/private");
  TempDir cache;
  HubOptions o = options_for(hub, cache.path);
  expect_error([&] { resolve_pretrained("org/private", default_pretrained_files(), o); }, {"org/private", "HF_TOKEN", "401"});
  o.token = "wrong";
  expect_error([&] { resolve_pretrained("org/private", default_pretrained_files(), o); }, {"refused"});
  o.token = hub.token;
  const std::string snap = resolve_pretrained("org/private", default_pretrained_files(), o);
  EXPECT_TRUE(fs::exists(snap + "/model.safetensors"));
  bool saw_bearer = false;
  for (const auto& l : hub.log())
    if (l.find("/org/private/resolve/") != std::string::npos && l.find("auth=Bearer secret-token") != std::string::npos)
      saw_bearer = true;
  EXPECT_TRUE(saw_bearer);
}

TEST(Hub, InterruptedDownloadIsResumedWithRange) {
  FakeHub hub;
  add_tiny_repo(hub, "org/tiny");
  const HubFile weights = hub.repos["org/tiny"]["model.safetensors"];
  hub.cut_next_downloads[weights.etag] = 1;
  TempDir cache;
  const std::string snap = resolve_pretrained("org/tiny", default_pretrained_files(), options_for(hub, cache.path));
  EXPECT_EQ(read_file(snap + "/model.safetensors"), weights.content);
  const std::string half = std::to_string(weights.content.size() / 2);
  bool resumed = false;
  for (const auto& l : hub.log())
    if (l.find("GET /cdn/" + weights.etag + " range=bytes=" + half + "-") == 0) resumed = true;
  EXPECT_TRUE(resumed) << "no Range request from byte " << half;

  // A partial file left by an earlier (killed) run is resumed from its size.
  TempDir cache2;
  const fs::path blobs = cache2.path / "models--org--tiny" / "blobs";
  fs::create_directories(blobs);
  std::ofstream(blobs / (weights.etag + ".incomplete"), std::ios::binary) << weights.content.substr(0, 100);
  const std::string snap2 = resolve_pretrained("org/tiny", default_pretrained_files(), options_for(hub, cache2.path));
  EXPECT_EQ(read_file(snap2 + "/model.safetensors"), weights.content);
  EXPECT_EQ(hub.count("GET /cdn/" + weights.etag + " range=bytes=100-"), 1u);
  EXPECT_FALSE(fs::exists(blobs / (weights.etag + ".incomplete")));
}

TEST(Hub, ShardedWeightsRelativeRedirectsRevisionsAndErrors) {
  FakeHub hub;
  auto& files = hub.repos["org/sharded"];
  files["config.json"] = {R"({"model_type": "bert"})", "etag-c"};
  NamedTensors tensors = {{"a", Tensor::from_vector({2}, {1, 2})}, {"b", Tensor::from_vector({2}, {3, 4})}};
  TempDir src;
  save_safetensors_checkpoint(src.path.string(), tensors, 8);  // two shards of 8 bytes
  for (const auto& de : fs::directory_iterator(src.path)) {
    const std::string name = de.path().filename().string();
    files[name] = {read_file(de.path().string()), "etag-" + name, name.ends_with(".safetensors")};
  }
  hub.renamed["org/old-name"] = "org/sharded";
  TempDir cache;
  HubOptions o = options_for(hub, cache.path);
  o.revision = "v1.0";
  const std::string snap = resolve_pretrained("org/sharded", default_pretrained_files(), o);
  EXPECT_EQ(read_file((cache.path / "models--org--sharded" / "refs" / "v1.0").string()), hub.commit);
  EXPECT_EQ(hub.count("HEAD /org/sharded/resolve/v1.0/config.json"), 1u);
  auto ckpt = SafetensorsCheckpoint::open_dir(snap);
  EXPECT_EQ(ckpt.load("b").f32()[1], 4.0f);
  EXPECT_TRUE(fs::exists(cache.path / "models--org--sharded" / ".no_exist" / hub.commit / "model.safetensors"));

  // A renamed repo answers with a relative 307 that is followed.
  const std::string moved = resolve_pretrained("org/old-name", {"config.json"}, options_for(hub, cache.path));
  EXPECT_EQ(read_file(moved + "/config.json"), files["config.json"].content);

  expect_error([&] { resolve_pretrained("org/nope", default_pretrained_files(), options_for(hub, cache.path)); },
               {"org/nope", "401"});
  expect_error([&] { resolve_pretrained("not//valid", {}, options_for(hub, cache.path)); }, {"not a valid Hugging Face model id"});
  expect_error([&] { resolve_pretrained("./no/such/dir", {}, options_for(hub, cache.path)); }, {"no such directory"});
  // A local directory comes back untouched, without any request.
  const size_t n = hub.log().size();
  EXPECT_EQ(resolve_pretrained(src.path.string(), {}, options_for(hub, cache.path)), src.path.string());
  EXPECT_EQ(hub.log().size(), n);
}

TEST(Hub, OptionsFromEnvironment) {
  setenv("HF_HOME", "/tmp/accent-hf-home", 1);
  unsetenv("HF_HUB_CACHE");
  unsetenv("HUGGINGFACE_HUB_CACHE");
  setenv("HF_ENDPOINT", "http://mirror.local:8080/", 1);
  setenv("HF_TOKEN", "tok", 1);
  setenv("HF_HUB_OFFLINE", "1", 1);
  HubOptions o = HubOptions::from_env();
  EXPECT_EQ(o.cache_dir, "/tmp/accent-hf-home/hub");
  EXPECT_EQ(o.endpoint, "http://mirror.local:8080");
  EXPECT_EQ(o.token, "tok");
  EXPECT_TRUE(o.offline);
  setenv("HF_HUB_CACHE", "/elsewhere", 1);
  setenv("HF_HUB_OFFLINE", "0", 1);
  o = HubOptions::from_env();
  EXPECT_EQ(o.cache_dir, "/elsewhere");
  EXPECT_FALSE(o.offline);
  EXPECT_EQ(hub_repo_folder_name("org/name"), "models--org--name");
  EXPECT_EQ(hub_repo_folder_name("bert-base-uncased"), "models--bert-base-uncased");
  for (const char* v : {"HF_HOME", "HF_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE"}) unsetenv(v);
}

TEST(Hub, FallsBackToPytorchModelBinWithoutSafetensors) {
  FakeHub hub;
  auto& files = hub.repos["org/old-bin"];
  files["config.json"] = {R"({"model_type": "bert"})", "etag-c-bin"};
  files["pytorch_model.bin"] = {"PK\x03\x04 not really a zip", "etag-bin", true};
  TempDir cache;
  const std::string snap = resolve_pretrained("org/old-bin", default_pretrained_files(), options_for(hub, cache.path));
  EXPECT_EQ(read_file(snap + "/pytorch_model.bin"), files["pytorch_model.bin"].content);
  const fs::path no_exist = cache.path / "models--org--old-bin" / ".no_exist" / hub.commit;
  EXPECT_TRUE(fs::exists(no_exist / "model.safetensors"));
  EXPECT_TRUE(fs::exists(no_exist / "model.safetensors.index.json"));
  // Offline afterwards: the cached .bin satisfies the weights.
  HubOptions offline = options_for(hub, cache.path);
  offline.offline = true;
  EXPECT_EQ(resolve_pretrained("org/old-bin", default_pretrained_files(), offline), snap);
}
