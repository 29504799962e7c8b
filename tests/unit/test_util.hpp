// Helpers for unit tests: a fresh temp dir per test, removed on success, kept on failure.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace decamp::test {

extern bool g_current_test_failed;  // set by the listener in main.cpp

class TempDir {
public:
    // Under `base` (default: the system's temp directory).
    explicit TempDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
        std::string tmpl = (base / "decamp-test-XXXXXX").string();
        char* p = mkdtemp(tmpl.data());
        REQUIRE(p != nullptr);
        path_ = p;
    }
    ~TempDir() {
        // Kept when the test failed, so the evidence survives.
        if (!g_current_test_failed) {
            std::error_code ec;
            std::filesystem::remove_all(path_, ec);
        }
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path write(const std::string& name, const std::string& content) const {
        auto p = path_ / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }

private:
    std::filesystem::path path_;
};

inline std::string source_dir() { return DECAMP_SOURCE_DIR; }

// A TCP port on loopback that was free a moment ago (for servers the tests start).
inline int free_tcp_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace decamp::test
