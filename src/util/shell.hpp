// The one place where values become shell text. Remote commands are built as argument
// vectors (data) and quoted here, so a hostile value ('; rm -rf / #', newlines, $(...))
// always ends up as one inert word.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace decamp::shell {

// POSIX single-quote a word: abc -> abc (safe chars kept bare), a b -> 'a b', it's -> 'it'\''s'.
std::string quote(std::string_view word);

// An argument vector, quoted word by word.
using Argv = std::vector<std::string>;
std::string join(const Argv& argv);

// Compose shell fragments (already quoted text).
std::string all_of(std::initializer_list<std::string> parts);    // a && b && c
std::string all_of(const std::vector<std::string>& parts);
std::string any_of(std::initializer_list<std::string> parts);    // a || b
std::string seq(const std::vector<std::string>& parts);          // a; b; c (newline separated)
std::string negate(const std::string& cmd);                       // ! cmd
std::string group(const std::string& cmd);                        // { cmd; }
std::string silent(const std::string& cmd);                       // cmd >/dev/null 2>&1

// Replace `path` on the host atomically and without following anything an attacker could
// plant (util/atomic_write.cpp says how): `content` travels as base64 in the command, so any
// byte sequence is safe. mode is octal text or ""; owner/group names, ids or "". Without
// mode/owner/group an existing regular file keeps its own; a new one gets 0666 & ~umask.
std::string write_file_atomic(const std::string& path, std::string_view content,
                              const std::string& mode, const std::string& owner,
                              const std::string& group);
// The same, with the content printed by the shell command `producer`; an exit status of the
// producer outside `ok_codes` (or a producer that dies) leaves the file untouched.
std::string write_output_atomic(const std::string& path, const std::string& producer,
                                const std::string& mode, const std::string& owner,
                                const std::string& group, std::initializer_list<int> ok_codes);
// The Perl sub `dc_write(DEST, FILL, MODE, OWNER, GROUP)` behind both, for host-side Perl
// programs that write files themselves (lineinfile): FILL->($fh) prints the content.
const std::string& atomic_write_perl_sub();

// Run `script` under `sudo -n` as root (or `become_user`), via sh -c.
std::string become(const std::string& script, const std::string& become_user = "root");

std::string base64(std::string_view data);

}  // namespace decamp::shell
