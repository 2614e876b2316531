// io/zip_archive.cpp — ZIP central directory parsing (PKWARE APPNOTE 4.3.x: EOCD, ZIP64 EOCD, extra field 0x0001).
#include "io/zip_archive.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace accent {

namespace {
uint64_t le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

bool ZipArchive::looks_like_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

std::shared_ptr<ZipArchive> ZipArchive::open(const std::string& path) {
  std::shared_ptr<ZipArchive> z(new ZipArchive());
  z->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open (", std::strerror(errno), ")");
  struct stat st {};
  ::fstat(fd, &st);
  z->size_ = static_cast<size_t>(st.st_size);
  if (z->size_ < 22) {
    ::close(fd);
    fail(path, ": not a ZIP archive (", z->size_, " bytes)");
  }
  void* map = ::mmap(nullptr, z->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) fail(path, ": mmap failed");
  z->map_ = map;
  z->read_directory(static_cast<const unsigned char*>(map), z->size_);
  return z;
}

std::shared_ptr<ZipArchive> ZipArchive::from_bytes(std::string_view bytes, const std::string& origin) {
  std::shared_ptr<ZipArchive> z(new ZipArchive());
  z->path_ = origin;
  if (bytes.size() < 22) fail(origin, ": not a ZIP archive (", bytes.size(), " bytes)");
  z->owned_.reset(new char[bytes.size()]);
  std::memcpy(z->owned_.get(), bytes.data(), bytes.size());
  z->read_directory(reinterpret_cast<const unsigned char*>(z->owned_.get()), bytes.size());
  return z;
}

void ZipArchive::read_directory(const unsigned char* base, size_t size) {
  const std::string& path = path_;
  auto need = [&](uint64_t offset, uint64_t n, const char* what) {
    if (offset > size || n > size - offset) fail(path, ": corrupt ZIP archive (", what, " past the end of the file)");
  };

  // End of central directory: the last "PK\5\6" within 22 + 65535 bytes of the end.
  size_t eocd = SIZE_MAX;
  for (size_t i = size - 22 + 1; i-- > 0 && size - i <= 22 + 65535;) {
    if (std::memcmp(base + i, "PK\x05\x06", 4) == 0) {
      eocd = i;
      break;
    }
  }
  if (eocd == SIZE_MAX) fail(path, ": not a ZIP archive (no end-of-central-directory record)");
  uint64_t count = le(base + eocd + 10, 2), cd_size = le(base + eocd + 12, 4), cd_offset = le(base + eocd + 16, 4);
  if (count == 0xffff || cd_offset == 0xffffffffu || cd_size == 0xffffffffu) {
    // ZIP64: locator right before the EOCD points at the ZIP64 EOCD record.
    if (eocd < 20 || std::memcmp(base + eocd - 20, "PK\x06\x07", 4) != 0)
      fail(path, ": corrupt ZIP64 archive (missing locator)");
    const uint64_t z64 = le(base + eocd - 20 + 8, 8);
    need(z64, 56, "ZIP64 end record");
    if (std::memcmp(base + z64, "PK\x06\x06", 4) != 0) fail(path, ": corrupt ZIP64 end record");
    count = le(base + z64 + 32, 8);
    cd_size = le(base + z64 + 40, 8);
    cd_offset = le(base + z64 + 48, 8);
  }
  need(cd_offset, cd_size, "central directory");
  uint64_t pos = cd_offset;
  for (uint64_t k = 0; k < count; ++k) {
    need(pos, 46, "central directory entry");
    const unsigned char* e = base + pos;
    if (std::memcmp(e, "PK\x01\x02", 4) != 0) fail(path, ": corrupt ZIP central directory entry ", k);
    const uint64_t method = le(e + 10, 2);
    uint64_t csize = le(e + 20, 4), usize = le(e + 24, 4), local = le(e + 42, 4);
    const uint64_t name_len = le(e + 28, 2), extra_len = le(e + 30, 2), comment_len = le(e + 32, 2);
    need(pos + 46, name_len + extra_len + comment_len, "central directory entry");
    std::string name(reinterpret_cast<const char*>(e + 46), name_len);
    // ZIP64 extended information: the 0xffffffff fields follow, in order usize, csize, local offset.
    for (uint64_t x = 0; x + 4 <= extra_len;) {
      const unsigned char* f = e + 46 + name_len + x;
      const uint64_t id = le(f, 2), len = le(f + 2, 2);
      if (4 + len > extra_len - x) fail(path, ": corrupt ZIP extra field of record ", name, " (runs past its entry)");
      if (id == 0x0001) {
        uint64_t o = 4;
        if (usize == 0xffffffffu && o + 8 <= 4 + len) { usize = le(f + o, 8); o += 8; }
        if (csize == 0xffffffffu && o + 8 <= 4 + len) { csize = le(f + o, 8); o += 8; }
        if (local == 0xffffffffu && o + 8 <= 4 + len) { local = le(f + o, 8); o += 8; }
      }
      x += 4 + len;
    }
    if (method != 0) fail(path, ": record ", name, " is compressed (method ", method, "); torch.save writes stored records only");
    if (csize != usize) fail(path, ": record ", name, " has inconsistent sizes");
    need(local, 30, "local header");
    if (std::memcmp(base + local, "PK\x03\x04", 4) != 0) fail(path, ": corrupt local header of ", name);
    const uint64_t data = local + 30 + le(base + local + 26, 2) + le(base + local + 28, 2);
    need(data, usize, ("record " + name).c_str());
    records_[name] = std::string_view(reinterpret_cast<const char*>(base + data), usize);
    names_.push_back(name);
    pos += 46 + name_len + extra_len + comment_len;
  }
}

ZipArchive::~ZipArchive() {
  if (map_) ::munmap(map_, size_);
}

std::string_view ZipArchive::record(const std::string& name) const {
  auto it = records_.find(name);
  if (it == records_.end()) fail(path_, ": archive has no record ", name);
  return it->second;
}

}  // namespace accent
