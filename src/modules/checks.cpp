// wait_for and http_check: read-only checks (check_only), run in check mode too. Their
// probe is empty; the "change" is the check itself and fails (exit 1) on timeout.
#include "modules/args.hpp"
#include "modules/builtin.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

namespace {

void require_host(const std::string& key, const std::string& host) {
    bool ok = !host.empty() && host[0] != '-' && host.size() <= 253;
    for (char c : host)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '_' || c == '[' || c == ']');
    if (!ok) throw ArgError(key, "expected a host name or IP address, got '" + host + "'");
}

// sh function: is TCP port $2 on host $1 accepting connections? nc when present, else
// bash's /dev/tcp (host and port passed as arguments, not pasted), else ss for local ports.
const char* kPortOpenFn =
    "port_open() {\n"
    "  if command -v nc >/dev/null 2>&1; then nc -z -w 1 \"$1\" \"$2\" >/dev/null 2>&1\n"
    "  elif command -v bash >/dev/null 2>&1; then timeout 2 bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' \"$1\" \"$2\" >/dev/null 2>&1\n"
    "  else ss -Hltn \"sport = :$2\" 2>/dev/null | grep -q .\n"
    "  fi\n"
    "}";

}  // namespace

Action plan_wait_for(const std::string&, const Value& args) {
    Args a(args);
    auto port = a.integer("port", 1, 65535);
    const std::string path = a.str("path", "");
    if (port && !path.empty()) throw ArgError("path", "give either port or path, not both");
    if (!path.empty()) require_absolute_path("path", path);
    const std::string host = a.str("host", "127.0.0.1");
    require_host("host", host);
    std::string state = a.choice("state", {"started", "stopped", "present", "absent"}, "started");
    const bool want_up = state == "started" || state == "present";
    const int64_t timeout = a.integer("timeout", 0, 86400).value_or(300);
    const int64_t delay = a.integer("delay", 0, 86400).value_or(0);
    const int64_t sleep_s = a.integer("sleep", 1, 3600).value_or(1);
    (void)a.integer("connect_timeout", 1, 3600);
    const std::string msg = a.str("msg", "");

    std::string what, test;
    if (port) {
        what = "port " + host + ":" + std::to_string(*port);
        test = "port_open " + shell::quote(host) + " " + std::to_string(*port);
    } else if (!path.empty()) {
        what = "path " + path;
        test = "[ -e " + shell::quote(path) + " ]";
    }
    Action act;
    act.check_only = true;
    act.summary = what.empty() ? "wait " + std::to_string(timeout) + "s"
                               : "wait for " + what + (want_up ? (port ? " open" : " present")
                                                               : (port ? " closed" : " absent"));
    act.change_text = act.summary;
    if (what.empty()) {
        act.change = "sleep " + std::to_string(delay + timeout);
        return act;
    }
    const std::string fail_msg = msg.empty() ? "wait_for: timeout after " + std::to_string(timeout) +
                                                   "s waiting for " + what
                                             : msg;
    std::vector<std::string> lines;
    if (port) lines.push_back(kPortOpenFn);
    if (delay) lines.push_back("sleep " + std::to_string(delay));
    lines.push_back("end=$(( $(date +%s) + " + std::to_string(timeout) + " ))");
    lines.push_back("while :; do");
    lines.push_back(std::string("  if ") + (want_up ? "" : "! ") + test + "; then exit 0; fi");
    lines.push_back("  [ \"$(date +%s)\" -lt \"$end\" ] || { echo " + shell::quote(fail_msg) +
                    " >&2; exit 1; }");
    lines.push_back("  sleep " + std::to_string(sleep_s));
    lines.push_back("done");
    act.change = subshell(lines);
    return act;
}

Action plan_http_check(const std::string&, const Value& args) {
    Args a(args);
    const std::string url = a.required_str("url");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        throw ArgError("url", "expected an http:// or https:// URL, got '" + url + "'");
    require_no_newline("url", url);
    const int64_t status = a.integer("status", 100, 599).value_or(200);
    const std::string host_header = a.str("host_header", "");
    if (!host_header.empty()) require_host("host_header", host_header);
    const int64_t timeout = a.integer("timeout", 1, 3600).value_or(10);
    const int64_t retries = a.integer("retries", 0, 10000).value_or(0);
    const int64_t delay = a.integer("delay", 0, 3600).value_or(1);
    const bool verify = a.flag("validate_certs", true);

    shell::Argv curl{"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                     std::to_string(timeout)};
    if (!host_header.empty()) curl.insert(curl.end(), {"-H", "Host: " + host_header});
    if (!verify) curl.push_back("-k");
    curl.push_back(url);
    const std::string want = std::to_string(status);
    std::vector<std::string> lines{
        "command -v curl >/dev/null 2>&1 || { echo 'http_check: curl not found on the host' >&2; exit 2; }",
        "n=0",
        "while :; do",
        "  code=$(" + shell::join(curl) + ")",
        "  [ \"$code\" = " + want + " ] && exit 0",
        "  n=$((n + 1))",
        "  [ $n -le " + std::to_string(retries) + " ] || { printf '%s %s\\n' " +
            shell::quote("http_check: " + url + ": expected status " + want + ", got") +
            " \"${code:-none}\" >&2; exit 1; }",
        "  sleep " + std::to_string(delay),
        "done"};
    Action act;
    act.check_only = true;
    act.change = subshell(lines);
    act.summary = "http " + url + (host_header.empty() ? "" : " (Host: " + host_header + ")") +
                  " -> " + want;
    act.change_text = act.summary;
    return act;
}

}  // namespace decamp::modules
