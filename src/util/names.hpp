// Shapes of the strings an inventory hands to commands and URLs: systemd unit names, absolute
// paths, PostgreSQL identifiers, DNS names, host headers, user names. Each check returns ""
// when the text is acceptable, else what was expected (for a file:line:column diagnostic).
// They are deliberately strict: what passes can never read as an option (`-x`), a second
// operand, a path outside the intended one, or a second header line.
#pragma once

#include <string>

namespace decamp::names {

// A systemd unit: letters, digits and ":_.@\-", not starting with '-' or '.', at most 255.
std::string check_unit(const std::string& s);
// An absolute, normalized path other than "/": no "." or ".." component, no "//", no
// trailing '/', no control characters.
std::string check_abs_path(const std::string& s);
// A PostgreSQL database (or role) name: a letter or '_' then letters, digits, '_', '-' or
// '$', at most 63 bytes.
std::string check_pg_name(const std::string& s);
// A fully qualified DNS name ending in '.': labels of letters, digits, '-' and '_' (not
// starting or ending with '-'), 1..63 each, 253 in all; "*" only as the first label.
std::string check_fqdn(const std::string& s);
// A host name or IP address (IPv6 in brackets when a port follows), optionally ":port".
std::string check_host_port(const std::string& s);
// A host's address: an IP address (v4 or v6, no brackets, no port) or a host name.
std::string check_address(const std::string& s);
// A login name: letters, digits, '.', '_', '-' (not first), at most 32.
std::string check_user(const std::string& s);
// An inventory name (project, provider, host, role): letters, digits, '-', '_', '.',
// starting with a letter, digit or '_', at most 64.
std::string check_name(const std::string& s);
// An http:// or https:// URL whose host part is a host name or IP (checked when it has no
// template), with no whitespace or control characters outside {{ … }}.
std::string check_http_url(const std::string& s);

}  // namespace decamp::names
