#include "engine/batching.hpp"

namespace decamp::engine {

Decision fit_task(const Batch& batch, const BatchTask& task, int max_tasks_per_batch, bool any_errors_fatal) {
    const bool first = batch.tasks == 0;
    if (!first) {
        if (task.solo) return {Fit::Close, "an expression decides its result: it goes alone"};
        if (max_tasks_per_batch <= 1) return {Fit::Close, "one task per batch (--batch 1)"};
        if (any_errors_fatal) return {Fit::Close, "any_errors_fatal: one task per batch"};
        if (task.remote && !batch.launcher.empty() && task.launcher != batch.launcher)
            return {Fit::Close, "become changes"};
    }
    if (task.solo) return {Fit::JoinAndClose, "an expression decides its result: it goes alone"};
    if (task.registers) return {Fit::JoinAndClose, "register: a later task may read its result"};
    if (task.defines_vars) return {Fit::JoinAndClose, "defines variables a later task may read"};
    if (task.slow) return {Fit::JoinAndClose, "slow module: a Ctrl-C waits for at most one"};
    return {Fit::Join, "nothing later depends on it"};
}

}  // namespace decamp::engine
