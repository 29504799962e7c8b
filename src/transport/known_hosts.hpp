// OpenSSH known_hosts files: one parser and one matcher, used both by the SSH transport when
// it verifies a server and by `decamp hostkeys scan` when it decides whether a key may be
// added, so the two can never disagree about whether a host is already pinned.
// Pure apart from read_file/append (file I/O); no libssh2 or OpenSSL in this header.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace decamp::transport::known_hosts {

enum class Marker { None, CertAuthority, Revoked };

struct Entry {
    int line = 0;
    Marker marker = Marker::None;
    // Hashed ("|1|salt|hash"): salt and HMAC-SHA1 digest, both raw bytes.
    bool hashed = false;
    std::string salt, digest;
    std::vector<std::string> patterns;  // plain: comma-separated host patterns (may start with !)
    std::string key_type;               // "ssh-ed25519"
    std::string key;                    // raw key blob (base64-decoded)
};

struct File {
    std::string path;  // for messages
    std::vector<Entry> entries;
    std::vector<std::string> errors;  // "path:line: why", one per line that cannot be used
};

// Comments, blank lines and unknown key types are fine; a line that is not an OpenSSH entry
// (missing fields, bad base64, an unknown @marker, a malformed |1| hash) is an error.
File parse(std::string_view text, const std::string& path);
// parse() of the file's content; a missing file is an empty File. Anything else that cannot
// be read (a directory, no permission) is one error.
File read_file(const std::string& path);

// The name OpenSSH looks up: "address" for port 22, else "[address]:port".
std::string host_field(const std::string& address, int port);
// OpenSSH's rules: a plain pattern list matches when one pattern (with * and ?) matches the
// looked-up name and no negated (!) pattern does; a hashed entry matches when
// HMAC-SHA1(salt, name) equals its digest. A port-less entry therefore only matches port 22.
bool matches(const Entry& e, const std::string& address, int port);

enum class Verdict {
    Match,      // a plain entry for this host holds exactly this key
    Mismatch,   // the host is pinned (plain entries) and none holds this key
    Unknown,    // no entry of any form names this host
    Revoked,    // the key is on a @revoked line
    CertOnly,   // only @cert-authority lines name this host: needs a host certificate
};
struct Check {
    Verdict verdict = Verdict::Unknown;
    std::vector<const Entry*> pinned;  // the plain entries for the host (for messages)
    const Entry* entry = nullptr;      // the matching, revoked or first CA entry
};
Check check(const File& f, const std::string& address, int port, std::string_view key_type,
            std::string_view key);

// "host-field key-type base64" (no newline).
std::string format_line(const std::string& address, int port, std::string_view key_type,
                        std::string_view key);

// Adds lines to the file atomically: the current content plus the lines go to a temp file
// created exclusively (O_EXCL, unpredictable name) in the same directory, then renamed over
// it; the file's mode is kept (0600 for a new file). Throws std::runtime_error when the file
// cannot be written (a directory, a device, a missing parent directory, no permission).
// Serialised within the process, and re-reads the file, so parallel connects lose nothing.
void append(const std::string& path, const std::vector<std::string>& lines);

}  // namespace decamp::transport::known_hosts
