// io/zip_archive.h — read-only view of an uncompressed ("stored") ZIP archive, as torch.save writes them.
//
// torch ≥ 1.6 checkpoints are ZIP files whose records are stored uncompressed (ZIP64 when large), so a record is
// a byte range of the file: the archive is mmapped and records are returned as pointers into it.
// Compressed records are refused (torch never writes them).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace accent {

class ZipArchive {
 public:
  // mmaps `path` and reads its central directory; throws accent::Error naming the file.
  static std::shared_ptr<ZipArchive> open(const std::string& path);
  // Reads an archive held in memory (copied; `origin` names it in errors). Same checks as open().
  static std::shared_ptr<ZipArchive> from_bytes(std::string_view bytes, const std::string& origin);
  ~ZipArchive();
  // True when `path` starts with a ZIP local-file signature.
  static bool looks_like_zip(const std::string& path);

  const std::string& path() const { return path_; }
  // Record names in central-directory order.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return records_.count(name) != 0; }
  // Bytes of a record (valid while the archive lives).
  std::string_view record(const std::string& name) const;

 private:
  ZipArchive() = default;
  void read_directory(const unsigned char* base, size_t size);  // fills names_/records_ from the image
  std::string path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::unique_ptr<char[]> owned_;  // the image when read with from_bytes (exactly its size)
  std::vector<std::string> names_;
  std::map<std::string, std::string_view> records_;
};

}  // namespace accent
