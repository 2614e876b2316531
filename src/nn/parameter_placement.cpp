#include "nn/parameter_placement.h"

namespace accent {

void move_parameters(const ParameterList& params, const MemoryResource& memory) {
  for (Parameter* p : params) {
    p->value = p->value.to_memory(memory);
    if (p->grad.numel() > 0) p->grad = p->grad.to_memory(memory);
  }
}

}  // namespace accent
