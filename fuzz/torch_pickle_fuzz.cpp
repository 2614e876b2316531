// fuzz/torch_pickle_fuzz.cpp — the restricted unpickler and tensor rebuild of load_torch_bin_bytes, fed directly:
// the input is data.pkl, wrapped by this harness into a well-formed stored ZIP (as torch.save writes it) next to
// eight 256-byte storage records archive/data/0 … archive/data/7. Mutating the pickle rather than the whole
// archive keeps every execution inside the pickle machine and materialize() (strides, offsets, storage bounds).
#include "core/error.h"
#include "fuzz/fuzz_util.h"
#include "io/torch_bin.h"

using namespace accent;

namespace {
void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A ZIP of stored records (PKWARE APPNOTE 4.3.7 local header, 4.3.12 central directory, 4.3.16 end record).
// CRCs are left 0: the reader does not check them.
std::string stored_zip(const std::vector<std::pair<std::string, std::string_view>>& records) {
  std::string zip, central;
  for (const auto& [name, bytes] : records) {
    const uint64_t local_offset = zip.size();
    zip += "PK\x03\x04";
    put_le(zip, 20, 2);  // version needed
    put_le(zip, 0, 2);   // flags
    put_le(zip, 0, 2);   // method: stored
    put_le(zip, 0, 4);   // time, date
    put_le(zip, 0, 4);   // crc32
    put_le(zip, bytes.size(), 4);
    put_le(zip, bytes.size(), 4);
    put_le(zip, name.size(), 2);
    put_le(zip, 0, 2);  // extra length
    zip += name;
    zip += bytes;
    central += "PK\x01\x02";
    put_le(central, 20, 2);  // version made by
    put_le(central, 20, 2);  // version needed
    put_le(central, 0, 2);
    put_le(central, 0, 2);
    put_le(central, 0, 4);
    put_le(central, 0, 4);
    put_le(central, bytes.size(), 4);
    put_le(central, bytes.size(), 4);
    put_le(central, name.size(), 2);
    put_le(central, 0, 2);  // extra
    put_le(central, 0, 2);  // comment
    put_le(central, 0, 2);  // disk
    put_le(central, 0, 2);  // internal attributes
    put_le(central, 0, 4);  // external attributes
    put_le(central, local_offset, 4);
    central += name;
  }
  const uint64_t cd_offset = zip.size();
  zip += central;
  zip += "PK\x05\x06";
  put_le(zip, 0, 4);  // disk numbers
  put_le(zip, records.size(), 2);
  put_le(zip, records.size(), 2);
  put_le(zip, central.size(), 4);
  put_le(zip, cd_offset, 4);
  put_le(zip, 0, 2);  // comment length
  return zip;
}

// Storage bytes: a fixed pattern so that every dtype sees varied values (NaNs, negatives, denormals).
const std::string& storage_bytes() {
  static const std::string bytes = [] {
    std::string b(256, '\0');
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>((i * 37 + 11) & 0xff);
    return b;
  }();
  return bytes;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::pair<std::string, std::string_view>> records = {{"archive/data.pkl", fuzz::as_view(data, size)},
                                                                   {"archive/byteorder", "little"}};
  static const std::string keys[] = {"0", "1", "2", "3", "4", "5", "6", "7"};
  for (const std::string& key : keys) records.emplace_back("archive/data/" + key, storage_bytes());
  records.emplace_back("archive/version", "3\n");
  const std::string zip = stored_zip(records);
  try {
    const auto tensors = load_torch_bin_bytes(zip, "fuzz.pkl.bin");
    for (const auto& [name, t] : tensors)
      FUZZ_ASSERT(t.nbytes() == static_cast<size_t>(shape_numel(t.shape())) * dtype_size(t.dtype()),
                  "tensor size matches its shape");
  } catch (const Error&) {
  }
  return 0;
}
