// io/hub.h — find a model like `from_pretrained`: a local directory, or a Hugging Face Hub id resolved in (and
// downloaded into) the huggingface_hub cache layout, so accent and Python share one cache.
//
// Cache layout (huggingface_hub file_download.py):
//   <cache>/models--<org>--<name>/refs/<revision>            commit sha of the revision (no newline)
//   <cache>/models--<org>--<name>/blobs/<etag>               file contents (etag = sha256 for LFS files, git sha1 otherwise)
//   <cache>/models--<org>--<name>/snapshots/<sha>/<file>     symlink ../../blobs/<etag> (a copy when symlinks fail)
//   <cache>/models--<org>--<name>/.no_exist/<sha>/<file>     empty marker: the server answered 404 for <file>
// Downloads go to blobs/<etag>.incomplete and are renamed when complete; a later run resumes an .incomplete with
// an HTTP Range request. URLs are {endpoint}/{id}/resolve/{revision}/{file}; HF_TOKEN is sent as
// `Authorization: Bearer …` (only to the endpoint's host, not to the CDN a file redirects to).
#pragma once
#include <string>
#include <vector>

namespace accent {

struct HubOptions {
  std::string revision = "main";
  bool offline = false;                          // also HF_HUB_OFFLINE=1 / TRANSFORMERS_OFFLINE=1
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT
  std::string token;                             // HF_TOKEN (else HUGGING_FACE_HUB_TOKEN, else $HF_HOME/token)
  std::string cache_dir;                         // HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
  // Options from the environment, as huggingface_hub reads it.
  static HubOptions from_env();
};

// The files a text-classification model may need, in the order they are tried. "model.safetensors" falls back
// to "model.safetensors.index.json" + its shards when the server has no single file, and when there are no
// safetensors at all to "pytorch_model.bin" (or its index + shards), like from_pretrained.
const std::vector<std::string>& default_pretrained_files();

// A local directory is returned as is. Otherwise `path_or_id` ("bert-base-uncased", "org/name") is resolved in
// the cache and the wanted files missing there are downloaded; returns the snapshot directory.
// Files the server answers 404 for are skipped (and remembered in .no_exist); a missing config.json is an error.
// Offline (or when the endpoint cannot be reached) only the cache is used; the error names what is missing.
std::string resolve_pretrained(const std::string& path_or_id,
                               const std::vector<std::string>& wanted_files = default_pretrained_files(),
                               const HubOptions& options = HubOptions::from_env());

// "models--org--name" for "org/name".
std::string hub_repo_folder_name(const std::string& repo_id);

}  // namespace accent
