#include "dist/distributed_env.h"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace accent {

namespace {

int parse_int(const char* name, const char* text) {
  const std::string s(text);
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  ACCENT_CHECK(used == s.size() && !s.empty() && v >= 0 && v <= 1 << 30, "environment variable ", name, "=\"", s,
               "\" is not a non-negative integer");
  return static_cast<int>(v);
}

}  // namespace

std::optional<DistributedEnv> distributed_env_from_environment(const std::function<const char*(const char*)>& getenv_fn) {
  auto get = [&](const char* name) -> const char* { return getenv_fn ? getenv_fn(name) : std::getenv(name); };
  const char* world = get("WORLD_SIZE");
  if (world == nullptr || *world == '\0') return std::nullopt;
  DistributedEnv env;
  env.world_size = parse_int("WORLD_SIZE", world);
  ACCENT_CHECK(env.world_size >= 1, "environment variable WORLD_SIZE=", env.world_size, " must be at least 1");
  auto required = [&](const char* name) -> const char* {
    const char* v = get(name);
    ACCENT_CHECK(v != nullptr && *v != '\0', "WORLD_SIZE is set (", env.world_size, ") but ", name,
                 " is not: a data-parallel worker needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, as torchrun "
                 "or `accent launch` sets them");
    return v;
  };
  env.rank = parse_int("RANK", env.world_size == 1 && get("RANK") == nullptr ? "0" : required("RANK"));
  ACCENT_CHECK(env.rank < env.world_size, "RANK=", env.rank, " is not below WORLD_SIZE=", env.world_size);
  const char* local_rank = get("LOCAL_RANK");
  const char* local_world = get("LOCAL_WORLD_SIZE");
  env.local_rank = local_rank && *local_rank ? parse_int("LOCAL_RANK", local_rank) : env.rank;
  env.local_world_size = local_world && *local_world ? parse_int("LOCAL_WORLD_SIZE", local_world) : env.world_size;
  ACCENT_CHECK(env.local_world_size >= 1 && env.local_world_size <= env.world_size, "LOCAL_WORLD_SIZE=",
               env.local_world_size, " must be between 1 and WORLD_SIZE=", env.world_size);
  ACCENT_CHECK(env.local_rank < env.local_world_size, "LOCAL_RANK=", env.local_rank,
               " is not below LOCAL_WORLD_SIZE=", env.local_world_size);
  if (env.world_size > 1 || get("MASTER_ADDR")) env.master_addr = required("MASTER_ADDR");
  if (env.world_size > 1 || get("MASTER_PORT")) {
    env.master_port = parse_int("MASTER_PORT", required("MASTER_PORT"));
    ACCENT_CHECK(env.master_port >= 1 && env.master_port <= 65535, "MASTER_PORT=", env.master_port,
                 " is not a TCP port (1…65535)");
  }
  if (const char* local = get("ACCENT_LOCAL_ADDR")) env.local_addr = local;
  return env;
}

std::string resolve_local_addr(const DistributedEnv& env) {
  if (!env.local_addr.empty()) return env.local_addr;
  const std::string_view m = env.master_addr;
  if (m == "localhost" || m.rfind("127.", 0) == 0 || m == "::1") return env.master_addr;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return env.master_addr;
}

}  // namespace accent
