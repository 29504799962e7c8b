// A real OpenSSH server for transport tests: its own host key, authorized keys and config in
// a temp dir, listening on a free loopback port, started as a child (`sshd -D -e`) and
// killed by PID at the end together with every session process it forked. Needs root and
// /usr/sbin/sshd; Sshd::unavailable() says why not, and tests skip with that message.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../unit/test_util.hpp"
#include "transport/transport.hpp"

extern char** environ;

namespace decamp::test {

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Every process whose parent chain leads to `root`, found through /proc.
inline std::vector<pid_t> descendants(pid_t root) {
    std::vector<std::pair<pid_t, pid_t>> procs;  // pid, ppid
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string stat = read_text(e.path() / "stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        char state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        procs.emplace_back(std::stoi(name), ppid);
    }
    std::vector<pid_t> out{root};
    for (size_t i = 0; i < out.size(); ++i)
        for (auto [pid, ppid] : procs)
            if (ppid == out[i]) out.push_back(pid);
    out.erase(out.begin());
    return out;
}

class Sshd {
public:
    static std::string unavailable() {
        if (::geteuid() != 0) return "transport SSH tests need root (sshd must switch users)";
        if (!std::filesystem::exists("/usr/sbin/sshd")) return "no /usr/sbin/sshd installed";
        if (std::system("command -v ssh-keygen >/dev/null 2>&1") != 0) return "no ssh-keygen";
        return {};
    }

    // `dir` must outlive the server. `extra` is appended to sshd_config.
    explicit Sshd(std::filesystem::path dir, const std::string& extra = "") : dir_(std::move(dir)) {
        std::filesystem::create_directories("/run/sshd");  // privilege separation dir
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        keygen("ed25519", dir_ / "host_ed25519");
        port_ = free_port();
        std::ofstream(dir_ / "authorized_keys");
        std::ofstream cfg(dir_ / "sshd_config");
        cfg << "Port " << port_ << "\nListenAddress 127.0.0.1\n"
            << "HostKey " << (dir_ / "host_ed25519").string() << "\n"
            << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
            << "PidFile " << (dir_ / "sshd.pid").string() << "\n"
            << "StrictModes no\nUsePAM no\nPermitRootLogin yes\nPasswordAuthentication no\n"
            << "KbdInteractiveAuthentication no\nAllowTcpForwarding yes\nMaxSessions 50\n"
            << "MaxStartups 100\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
            // Debian's bash sources ~/.bashrc for commands run by sshd when it is a top-level
            // shell; root's rc files on a dev machine (pyenv init...) can cost 100 ms per
            // command. SHLVL=1 makes bash a nested shell, so the tests time the transport.
            << "SetEnv SHLVL=1\n"
            << extra << "\n";
        cfg.close();
        start();
    }
    ~Sshd() { stop(); }
    Sshd(const Sshd&) = delete;
    Sshd& operator=(const Sshd&) = delete;

    int port() const { return port_; }
    const std::filesystem::path& dir() const { return dir_; }

    // Kills the listener and every process it forked (the live sessions too), by PID.
    void stop() {
        if (pid_ <= 0) return;
        std::vector<pid_t> kids = descendants(pid_);
        for (pid_t p : kids) ::kill(p, SIGKILL);
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        // As child subreaper we inherit the orphaned session processes: reap them, so no
        // zombies pile up under an init that does not reap.
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (!kids.empty() && std::chrono::steady_clock::now() < until) {
            for (size_t i = 0; i < kids.size();) {
                pid_t r = ::waitpid(kids[i], &status, WNOHANG);
                bool gone = r == kids[i] ||
                            (r < 0 && !std::filesystem::exists("/proc/" + std::to_string(kids[i])));
                if (gone) {
                    kids.erase(kids.begin() + long(i));
                } else {
                    ++i;
                }
            }
            if (!kids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    // A new client key of `type`, authorized unless told otherwise. Returns the private key.
    std::filesystem::path client_key(const std::string& type = "ed25519", bool authorize = true) {
        auto path = dir_ / ("client_" + type + "_" + std::to_string(keys_++));
        keygen(type, path);
        if (authorize) std::ofstream(dir_ / "authorized_keys", std::ios::app) << read_text(path.string() + ".pub");
        return path;
    }

    // The host key's public blob, base64 ("AAAAC3Nz...").
    std::string host_key_base64() const {
        std::istringstream in(read_text(dir_ / "host_ed25519.pub"));
        std::string type, blob;
        in >> type >> blob;
        return blob;
    }
    std::string known_hosts_line() const {
        return "[127.0.0.1]:" + std::to_string(port_) + " ssh-ed25519 " + host_key_base64();
    }
    std::filesystem::path write_known_hosts() const {
        auto p = dir_ / "known_hosts";
        std::ofstream(p) << known_hosts_line() << "\n";
        return p;
    }

    // Ready-to-use config: root, a fresh authorized ed25519 key, strict known_hosts.
    transport::SshConfig config() {
        transport::SshConfig c;
        c.name = "lab1";
        c.address = "127.0.0.1";
        c.port = port_;
        c.user = "root";
        c.key_file = client_key().string();
        c.known_hosts = write_known_hosts().string();
        c.use_agent = false;
        c.connect_timeout_s = 5;
        return c;
    }

    static void keygen(const std::string& type, const std::filesystem::path& path) {
        std::string cmd = "ssh-keygen -q -t " + type + (type == "rsa" ? " -b 2048" : "") +
                          " -N '' -C decamp-test -f '" + path.string() + "' </dev/null >/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("ssh-keygen failed: " + cmd);
    }

    static int free_port() { return test::free_tcp_port(); }

private:
    void start() {
        std::string log = (dir_ / "sshd.log").string();
        std::string cfg = (dir_ / "sshd_config").string();
        const char* argv[] = {"/usr/sbin/sshd", "-D", "-e", "-f", cfg.c_str(), nullptr};
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("cannot fork for sshd");
        if (pid_ == 0) {
            // Dies with the test process even when that crashes or is killed, so no sshd is
            // ever left behind. Only async-signal-safe calls between fork and exec.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            int in = ::open("/dev/null", O_RDONLY);
            int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (in < 0 || out < 0) ::_exit(127);
            ::dup2(in, 0);
            ::dup2(out, 1);
            ::dup2(out, 2);
            ::execve(argv[0], const_cast<char**>(argv), environ);
            ::_exit(127);
        }
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < until) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("sshd exited at start: " + read_text(log));
            }
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons(uint16_t(port_));
            bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
            if (ok) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop();
        throw std::runtime_error("sshd did not listen on port " + std::to_string(port_) + ": " +
                                 read_text(log));
    }

    std::filesystem::path dir_;
    int port_ = 0;
    pid_t pid_ = -1;
    int keys_ = 0;
};

}  // namespace decamp::test
