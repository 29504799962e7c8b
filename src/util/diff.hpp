// Unified diff of two texts (like `diff -u`), for check mode and --diff. Myers' O(ND)
// algorithm after trimming the common prefix and suffix; when the texts differ in more than
// a bounded number of lines it falls back to "replace everything", which is still a
// correct (if longer) diff, so huge inputs cannot blow up time or memory.
#pragma once

#include <string>
#include <string_view>

namespace decamp::util {

// "" when a == b. Otherwise "--- label_a\n+++ label_b\n@@ ... @@\n..." with `context`
// unchanged lines around each change and "\ No newline at end of file" markers.
std::string unified_diff(std::string_view a, std::string_view b, const std::string& label_a,
                         const std::string& label_b, int context = 3);

}  // namespace decamp::util
