// command / shell helpers exposed for tests.
#pragma once

#include <string>
#include <vector>

namespace decamp::modules {

// Split a command line into words the way Python's shlex.split (POSIX mode) does, which is
// what Ansible's command module uses: whitespace separates, '...' is literal, "..." allows
// \" and \\ escapes, a backslash outside quotes escapes any character. Throws
// std::invalid_argument on an unclosed quote or a trailing backslash.
std::vector<std::string> shlex_split(const std::string& text);

}  // namespace decamp::modules
