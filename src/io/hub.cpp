// io/hub.cpp — from_pretrained-style model location: local directory, HF cache, download (see hub.h).
#include "io/hub.h"
#include "io/shard_index.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "io/httplib_build.h"
#include "io/model_dir_save.h"

namespace accent {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// huggingface_hub constants._is_true
bool env_true(const char* name) {
  std::string v = env(name);
  for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

// Percent-encodes everything but unreserved characters (urllib.parse.quote(s, safe=keep)).
std::string quote(const std::string& s, const std::string& keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || keep.find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct Url {
  std::string origin;  // scheme://host[:port]
  std::string path;    // /...
};

Url split_url(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) fail("invalid URL \"", url, "\" (expected http://… or https://…)");
  const size_t path_start = url.find('/', scheme_end + 3);
  Url u;
  u.origin = path_start == std::string::npos ? url : url.substr(0, path_start);
  u.path = path_start == std::string::npos ? "/" : url.substr(path_start);
  return u;
}

struct HttpAnswer {
  int status = 0;                // 0 = no answer (connection failed)
  std::string error;             // transport error text when status == 0 or the body was cut
  httplib::Headers headers;      // of the last response
  httplib::Headers first_headers;  // of the first response (hub metadata lives there when a CDN redirect follows)
  std::string location;          // Location of an unfollowed redirect
  std::string final_url;
};

std::string header(const httplib::Headers& h, const std::string& key) {
  for (const auto& [k, v] : h)
    if (strcasecmp(k.c_str(), key.c_str()) == 0) return v;
  return "";
}

class HubClient {
 public:
  explicit HubClient(const HubOptions& o) : options_(o), endpoint_(split_url(o.endpoint)) {}

  const Url& endpoint() const { return endpoint_; }

  // HEAD, following only same-host relative redirects (huggingface_hub get_hf_file_metadata): for LFS files the
  // hub answers 302 to a CDN, and the metadata (X-Linked-Etag, X-Repo-Commit) is on that 302.
  HttpAnswer head(const std::string& url) {
    HttpAnswer a;
    std::string current = url;
    for (int hop = 0; hop < 10; ++hop) {
      const Url u = split_url(current);
      httplib::Client cli = client(u.origin);
      auto res = cli.Head(u.path, request_headers(u.origin, std::nullopt));
      if (!res) {
        a.status = 0;
        a.error = httplib::to_string(res.error());
        return a;
      }
      a.status = res->status;
      a.headers = res->headers;
      if (hop == 0) a.first_headers = res->headers;
      a.final_url = current;
      const std::string location = res->get_header_value("Location");
      if (res->status >= 300 && res->status < 400 && !location.empty()) {
        if (location[0] == '/') {  // relative: same host, follow
          current = u.origin + location;
          continue;
        }
        a.location = location;
      }
      return a;
    }
    fail(url, ": too many redirects");
  }

  // GET streaming the body to `sink`, following every redirect. `from` > 0 asks for bytes from that offset
  // (Range); the answer's status says whether the server honoured it (206) or sent everything (200).
  HttpAnswer get(const std::string& url, uint64_t from, const std::function<bool(int, const char*, size_t)>& sink) {
    HttpAnswer a;
    std::string current = url;
    for (int hop = 0; hop < 10; ++hop) {
      const Url u = split_url(current);
      httplib::Client cli = client(u.origin);
      int status = 0;
      std::string location;
      auto res = cli.Get(
          u.path, request_headers(u.origin, from ? std::optional<uint64_t>(from) : std::nullopt),
          [&](const httplib::Response& r) {
            status = r.status;
            location = r.get_header_value("Location");
            if (hop == 0) a.first_headers = r.headers;
            a.headers = r.headers;
            return true;
          },
          [&](const char* data, size_t n) {
            if (status >= 300 && status < 400) return true;  // redirect body: discard
            if (status != 200 && status != 206) return true;
            return sink(status, data, n);
          });
      a.final_url = current;
      if (!res) {
        a.status = status;  // may have started: the body was cut
        a.error = httplib::to_string(res.error());
        return a;
      }
      a.status = res->status;
      if (res->status >= 300 && res->status < 400 && !location.empty()) {
        current = location[0] == '/' ? u.origin + location : location;
        continue;
      }
      return a;
    }
    fail(url, ": too many redirects");
  }

 private:
  httplib::Client client(const std::string& origin) {
    if (origin.rfind("https://", 0) != 0 && origin.rfind("http://", 0) != 0)
      fail("unsupported URL scheme in ", origin, " (accent speaks http:// and https://)");
    httplib::Client cli(origin);
    if (!cli.is_valid()) fail("cannot create an HTTP client for ", origin);
    cli.set_connection_timeout(10);
    cli.set_read_timeout(60);
    cli.set_follow_location(false);
    cli.set_decompress(false);
    return cli;
  }

  httplib::Headers request_headers(const std::string& origin, std::optional<uint64_t> range_from) {
    httplib::Headers h = {{"User-Agent", "accent/0.1; hf_hub-compatible"}, {"Accept-Encoding", "identity"}};
    // The token goes to the hub only, never to the storage host a file redirects to.
    if (!options_.token.empty() && origin == endpoint_.origin) h.emplace("Authorization", "Bearer " + options_.token);
    if (range_from) h.emplace("Range", "bytes=" + std::to_string(*range_from) + "-");
    return h;
  }

  HubOptions options_;
  Url endpoint_;
};

std::string strip_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

// huggingface_hub validate_repo_id
bool valid_repo_id(const std::string& id) {
  static const std::regex re(R"(^(\w[\w\-.]*/)?[\w\-.]+$)");
  return !id.empty() && id.size() <= 96 && std::regex_match(id, re) && id.find("--") == std::string::npos &&
         id.find("..") == std::string::npos && id.back() != '.' && id.back() != '-';
}

bool is_commit_hash(const std::string& s) {
  static const std::regex re("^[0-9a-f]{40}$");
  return std::regex_match(s, re);
}

// Points snapshots/<sha>/<file> at blobs/<etag>: a relative symlink like huggingface_hub, a copy if that fails.
void link_snapshot_file(const fs::path& blob, const fs::path& pointer) {
  fs::create_directories(pointer.parent_path());
  std::error_code ec;
  fs::remove(pointer, ec);
  fs::create_symlink(fs::relative(blob, pointer.parent_path()), pointer, ec);
  if (ec) fs::copy_file(blob, pointer, fs::copy_options::overwrite_existing);
}

struct RepoCache {
  fs::path root;  // <cache>/models--org--name
  fs::path snapshot(const std::string& sha) const { return root / "snapshots" / sha; }
  fs::path no_exist(const std::string& sha, const std::string& file) const { return root / ".no_exist" / sha / file; }
  std::optional<std::string> ref(const std::string& revision) const {
    if (is_commit_hash(revision)) return revision;
    const fs::path p = root / "refs" / revision;
    if (!fs::exists(p)) return std::nullopt;
    return trim(read_file(p.string()));
  }
  void set_ref(const std::string& revision, const std::string& sha) const {
    if (revision == sha) return;
    const fs::path p = root / "refs" / revision;
    fs::create_directories(p.parent_path());
    if (!fs::exists(p) || trim(read_file(p.string())) != sha) write_file_atomic(p.string(), sha);
  }
};

std::vector<std::string> shards_of_index(const fs::path& index_path) {
  return read_shard_index(index_path.string()).shard_files();
}

class Resolver {
 public:
  Resolver(const std::string& repo_id, const HubOptions& o) : id_(repo_id), options_(o), http_(o) {
    cache_.root = fs::path(o.cache_dir) / hub_repo_folder_name(repo_id);
  }

  std::string run(const std::vector<std::string>& wanted) {
    if (!options_.offline) {
      // One HEAD on config.json pins the commit every other file is taken from.
      const HttpAnswer meta = http_.head(file_url("config.json"));
      if (meta.status == 0) {
        offline_reason_ = "cannot reach " + options_.endpoint + " (" + meta.error + ")";
      } else {
        check_status(meta, "config.json");
        config_meta_ = meta;
        sha_ = header(meta.first_headers, "X-Repo-Commit");
        if (sha_.empty()) sha_ = options_.revision;  // not a hub (no X-Repo-Commit): name the snapshot after the revision
        cache_.set_ref(options_.revision, sha_);
        online_ = true;
      }
    } else {
      offline_reason_ = "offline mode (HF_HUB_OFFLINE=1)";
    }
    if (!online_) {
      auto sha = cache_.ref(options_.revision);
      if (!sha || !fs::exists(cache_.snapshot(*sha)))
        fail(id_, " (revision ", options_.revision, ") is not in the cache ", cache_.root.string(), " and ",
             offline_reason_, "; download it once online or pass a local directory");
      sha_ = *sha;
    }
    for (const std::string& file : wanted) want(file);
    const fs::path snapshot = cache_.snapshot(sha_);
    if (!fs::exists(snapshot / "config.json"))
      fail(id_, ": config.json is missing from ", snapshot.string(), online_ ? "" : (" (" + offline_reason_ + ")"));
    if (!missing_.empty()) {
      std::string list;
      for (const auto& m : missing_) list += (list.empty() ? "" : ", ") + m;
      fail(id_, ": ", list, " missing from the cache ", snapshot.string(), " (", offline_reason_, ")");
    }
    return snapshot.string();
  }

 private:
  std::string file_url(const std::string& file) const {
    const std::string prefix = http_.endpoint().path == "/" ? "" : http_.endpoint().path;
    return http_.endpoint().origin + prefix + "/" + id_ + "/resolve/" + quote(options_.revision, "") + "/" +
           quote(file, "/");
  }

  void check_status(const HttpAnswer& a, const std::string& file) {
    const std::string code = header(a.headers, "X-Error-Code");
    if (a.status == 401 || a.status == 403)
      fail(id_, ": access to ", file, " denied by ", options_.endpoint, " (HTTP ", a.status,
           code.empty() ? "" : ", " + code, "): the repository may be private or gated — set HF_TOKEN",
           options_.token.empty() ? "" : " (the token given was refused)");
    if (a.status == 404 && file == "config.json") {
      if (code == "RepoNotFound") fail(id_, ": no such model on ", options_.endpoint);
      if (code == "RevisionNotFound") fail(id_, ": revision \"", options_.revision, "\" not found on ", options_.endpoint);
      fail(id_, ": config.json not found on ", options_.endpoint, " (revision ", options_.revision, ")");
    }
  }

  static constexpr uint64_t kUnknownSize = UINT64_MAX;
  enum class Have { Present, Absent, Unknown };  // Absent: the server said 404; Unknown: offline, not cached

  // Makes `file` present in the snapshot if it exists; "model.safetensors" falls back to the sharded index.
  void want(const std::string& file) {
    const Have have = fetch(file);
    if (file == "model.safetensors" && have != Have::Present) {
      const Have index = fetch("model.safetensors.index.json");
      if (index == Have::Present) {
        want_shards("model.safetensors.index.json");
      } else {
        // No safetensors (or not cached): torch.save weights, like from_pretrained's fallback.
        Have bin = fetch("pytorch_model.bin");
        if (bin != Have::Present) {
          const Have bin_index = fetch("pytorch_model.bin.index.json");
          if (bin_index == Have::Present) want_shards("pytorch_model.bin.index.json");
          bin = bin_index == Have::Present ? Have::Present : (bin == Have::Unknown ? bin : bin_index);
        }
        if (bin != Have::Present && (have == Have::Unknown || index == Have::Unknown || bin == Have::Unknown))
          missing_.push_back("model.safetensors");
      }
    }
    if ((file == "model.safetensors.index.json" || file == "pytorch_model.bin.index.json") && have == Have::Present)
      want_shards(file);
    if (file == "config.json" && have == Have::Unknown) missing_.push_back(file);
  }

  void want_shards(const std::string& index_file) {
    for (const auto& shard : shards_of_index(cache_.snapshot(sha_) / index_file)) {
      const Have have = fetch(shard);
      if (have == Have::Absent) fail(id_, ": shard ", shard, " listed in ", index_file, " does not exist");
      if (have == Have::Unknown) missing_.push_back(shard);
    }
  }

  Have fetch(const std::string& file) {
    const fs::path pointer = cache_.snapshot(sha_) / file;
    if (fs::exists(pointer)) return Have::Present;
    if (fs::exists(cache_.no_exist(sha_, file))) return Have::Absent;
    if (!online_) return Have::Unknown;
    const HttpAnswer meta = file == "config.json" && config_meta_ ? *config_meta_ : http_.head(file_url(file));
    if (meta.status == 0) fail(id_, ": lost the connection to ", options_.endpoint, " (", meta.error, ") fetching ", file);
    check_status(meta, file);
    if (meta.status == 404) {
      const fs::path marker = cache_.no_exist(sha_, file);
      fs::create_directories(marker.parent_path());
      std::ofstream{marker};
      return Have::Absent;
    }
    if (meta.status >= 400) fail(id_, ": ", file, ": HTTP ", meta.status, " from ", options_.endpoint);
    std::string etag = strip_etag(header(meta.first_headers, "X-Linked-Etag"));
    if (etag.empty()) etag = strip_etag(header(meta.first_headers, "ETag"));
    const std::string size_text = !header(meta.first_headers, "X-Linked-Size").empty()
                                      ? header(meta.first_headers, "X-Linked-Size")
                                      : header(meta.headers, "Content-Length");
    const uint64_t expected_size = size_text.empty() ? kUnknownSize : std::stoull(size_text);
    if (etag.empty()) etag = "noetag-" + sha_ + "-" + quote(file, "");  // hub always sends one; plain mirrors may not
    const std::string download_url = meta.location.empty() ? meta.final_url : meta.location;
    const fs::path blob = cache_.root / "blobs" / etag;
    if (!fs::exists(blob)) download(download_url, blob, expected_size, file);
    link_snapshot_file(blob, pointer);
    return Have::Present;
  }

  // Streams into blob.incomplete (resuming what an earlier try left there), renames when complete.
  void download(const std::string& url, const fs::path& blob, uint64_t expected_size, const std::string& file) {
    fs::create_directories(blob.parent_path());
    const fs::path partial = blob.string() + ".incomplete";
    std::string last_error;
    for (int attempt = 0; attempt < 5; ++attempt) {
      uint64_t have = fs::exists(partial) ? fs::file_size(partial) : 0;
      if (expected_size != kUnknownSize && have >= expected_size) have = 0;  // nothing sensible to resume: start over
      std::ofstream out;
      const HttpAnswer a = http_.get(url, have, [&](int status, const char* data, size_t n) {
        if (!out.is_open()) {
          // 206: the server resumes at `have`; 200: it sends everything, so the partial file restarts.
          out.open(partial, std::ios::binary | (status == 206 ? std::ios::app : std::ios::trunc));
          if (!out) fail(partial.string(), ": cannot write");
        }
        out.write(data, static_cast<std::streamsize>(n));
        return static_cast<bool>(out);
      });
      out.close();
      if (a.status == 404 || a.status == 401 || a.status == 403 || (a.status >= 400 && a.status != 416))
        fail(id_, ": downloading ", file, " from ", a.final_url, " failed with HTTP ", a.status);
      if (a.status == 416) {  // range not satisfiable: the partial file is stale
        std::error_code ec;
        fs::remove(partial, ec);
        last_error = "HTTP 416";
        continue;
      }
      const uint64_t got = fs::exists(partial) ? fs::file_size(partial) : 0;
      if (!a.error.empty()) {
        last_error = a.error;  // cut mid-transfer: keep the partial file and resume
        continue;
      }
      if (expected_size != kUnknownSize && got != expected_size) {
        last_error = "got " + std::to_string(got) + " of " + std::to_string(expected_size) + " bytes";
        continue;
      }
      std::error_code ec;
      fs::rename(partial, blob, ec);
      if (ec) fail(blob.string(), ": cannot move the finished download into place (", ec.message(), ")");
      return;
    }
    fail(id_, ": downloading ", file, " failed after 5 tries (", last_error, "); the partial file ",
         partial.string(), " is kept and the next run resumes it");
  }

  std::string id_;
  HubOptions options_;
  HubClient http_;
  RepoCache cache_;
  std::string sha_;
  bool online_ = false;
  std::optional<HttpAnswer> config_meta_;  // the HEAD that pinned the commit (reused for config.json itself)
  std::string offline_reason_;
  std::vector<std::string> missing_;
};

}  // namespace

HubOptions HubOptions::from_env() {
  HubOptions o;
  o.offline = env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE");
  if (!env("HF_ENDPOINT").empty()) o.endpoint = env("HF_ENDPOINT");
  while (o.endpoint.size() > 1 && o.endpoint.back() == '/') o.endpoint.pop_back();
  std::string home = env("HOME");
  std::string hf_home = env("HF_HOME");
  if (hf_home.empty()) {
    const std::string xdg = env("XDG_CACHE_HOME");
    hf_home = (xdg.empty() ? home + "/.cache" : xdg) + "/huggingface";
  }
  o.token = env("HF_TOKEN");
  if (o.token.empty()) o.token = env("HUGGING_FACE_HUB_TOKEN");
  if (o.token.empty()) {
    const std::string token_path = env("HF_TOKEN_PATH").empty() ? hf_home + "/token" : env("HF_TOKEN_PATH");
    std::error_code ec;
    if (fs::is_regular_file(token_path, ec)) o.token = trim(read_file(token_path));
  }
  o.cache_dir = env("HF_HUB_CACHE");
  if (o.cache_dir.empty()) o.cache_dir = env("HUGGINGFACE_HUB_CACHE");
  if (o.cache_dir.empty()) o.cache_dir = hf_home + "/hub";
  return o;
}

const std::vector<std::string>& default_pretrained_files() {
  static const std::vector<std::string> files = {"config.json",    "model.safetensors",   "tokenizer.json",
                                                 "vocab.txt",      "vocab.json",          "merges.txt",
                                                 "tokenizer_config.json", "special_tokens_map.json"};
  return files;
}

std::string hub_repo_folder_name(const std::string& repo_id) {
  std::string out = "models--";
  for (char c : repo_id) {
    if (c == '/') out += "--";
    else out += c;
  }
  return out;
}

std::string resolve_pretrained(const std::string& path_or_id, const std::vector<std::string>& wanted_files,
                               const HubOptions& options) {
  std::error_code ec;
  if (fs::is_directory(path_or_id, ec)) {
    recover_interrupted_save(path_or_id);  // a save killed mid-swap: complete it before anyone reads the files
    return path_or_id;
  }
  const bool looks_like_path = path_or_id.empty() || path_or_id[0] == '/' || path_or_id[0] == '.' ||
                               path_or_id[0] == '~' || path_or_id.find('\\') != std::string::npos;
  if (looks_like_path || !valid_repo_id(path_or_id))
    fail(path_or_id, ": no such directory, and not a valid Hugging Face model id (expected \"name\" or \"org/name\")");
  if (options.cache_dir.empty()) fail("resolve_pretrained: no cache directory configured (HF_HUB_CACHE / HF_HOME)");
  std::vector<std::string> wanted = wanted_files;
  if (std::find(wanted.begin(), wanted.end(), "config.json") == wanted.end()) wanted.insert(wanted.begin(), "config.json");
  Resolver resolver(path_or_id, options);
  return resolver.run(wanted);
}

}  // namespace accent
