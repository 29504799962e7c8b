// known_hosts parsing and matching: the one matcher the transport and `hostkeys scan` share.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_util.hpp"
#include "transport/crypto.hpp"
#include "transport/known_hosts.hpp"

using namespace decamp;
namespace kh = decamp::transport::known_hosts;

namespace {

const std::string kKeyA = "key-A-blob";
const std::string kKeyB = "key-B-blob";
std::string b64(const std::string& s) { return transport::detail::base64_encode(s); }
std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

kh::Verdict verdict(const std::string& text, const std::string& addr, int port, const std::string& key) {
    kh::File f = kh::parse(text, "kh");
    REQUIRE(f.errors.empty());
    return kh::check(f, addr, port, "ssh-ed25519", key).verdict;
}

}  // namespace

TEST_CASE("known_hosts: plain, comma-list, port and pattern matching as OpenSSH") {
    const std::string a = " ssh-ed25519 " + b64(kKeyA) + "\n";
    CHECK(verdict("10.0.0.1" + a, "10.0.0.1", 22, kKeyA) == kh::Verdict::Match);
    CHECK(verdict("10.0.0.1" + a, "10.0.0.1", 22, kKeyB) == kh::Verdict::Mismatch);
    CHECK(verdict("10.0.0.2" + a, "10.0.0.1", 22, kKeyB) == kh::Verdict::Unknown);
    // A comma list pins every name on it.
    CHECK(verdict("web1,10.0.0.1,[10.0.0.1]:2222" + a, "10.0.0.1", 22, kKeyB) == kh::Verdict::Mismatch);
    CHECK(verdict("web1,10.0.0.1,[10.0.0.1]:2222" + a, "10.0.0.1", 2222, kKeyB) == kh::Verdict::Mismatch);
    // A port-less entry does not match another port; [host]:port only that port.
    CHECK(verdict("10.0.0.1" + a, "10.0.0.1", 2222, kKeyB) == kh::Verdict::Unknown);
    CHECK(verdict("[10.0.0.1]:2222" + a, "10.0.0.1", 22, kKeyB) == kh::Verdict::Unknown);
    CHECK(verdict("[10.0.0.1]:2222" + a, "10.0.0.1", 2222, kKeyA) == kh::Verdict::Match);
    // Wildcards, negation, case.
    CHECK(verdict("10.0.0.*" + a, "10.0.0.9", 22, kKeyB) == kh::Verdict::Mismatch);
    CHECK(verdict("10.0.0.?" + a, "10.0.0.19", 22, kKeyB) == kh::Verdict::Unknown);
    CHECK(verdict("10.0.0.*,!10.0.0.9" + a, "10.0.0.9", 22, kKeyB) == kh::Verdict::Unknown);
    CHECK(verdict("WEB1.Example" + a, "web1.example", 22, kKeyB) == kh::Verdict::Mismatch);
    // One of several keys for the host matches: fine. Comments and blank lines are skipped.
    CHECK(verdict("# c\n\n10.0.0.1 ssh-rsa " + b64(kKeyB) + " comment\n10.0.0.1" + a, "10.0.0.1", 22, kKeyA) ==
          kh::Verdict::Match);
}

TEST_CASE("known_hosts: hashed entries are HMAC-SHA1 of the looked-up name") {
    // Computed with Python: hmac.new(b"0123456789abcdefghij", b"[10.0.0.1]:2222", sha1).
    const std::string salt = "0123456789abcdefghij";
    const std::string hashed = "|1|" + b64(salt) + "|5iB7bJDiP6zNWy/fyUx01sI6loU=";
    const std::string line = hashed + " ssh-ed25519 " + b64(kKeyA) + "\n";
    CHECK(verdict(line, "10.0.0.1", 2222, kKeyA) == kh::Verdict::Match);
    CHECK(verdict(line, "10.0.0.1", 2222, kKeyB) == kh::Verdict::Mismatch);
    CHECK(verdict(line, "10.0.0.1", 22, kKeyB) == kh::Verdict::Unknown);
    CHECK(verdict(line, "10.0.0.2", 2222, kKeyB) == kh::Verdict::Unknown);
}

TEST_CASE("known_hosts: @revoked refuses the key, @cert-authority alone is not trust") {
    const std::string a = " ssh-ed25519 " + b64(kKeyA) + "\n";
    // Revoked wins over a plain entry holding the same key, whatever host the line names.
    CHECK(verdict("@revoked * ssh-ed25519 " + b64(kKeyA) + "\n10.0.0.1" + a, "10.0.0.1", 22, kKeyA) ==
          kh::Verdict::Revoked);
    CHECK(verdict("@revoked other ssh-ed25519 " + b64(kKeyA) + "\n10.0.0.1" + a, "10.0.0.1", 22, kKeyA) ==
          kh::Verdict::Revoked);
    CHECK(verdict("@cert-authority *.example ssh-ed25519 " + b64(kKeyB) + "\n", "web.example", 22, kKeyA) ==
          kh::Verdict::CertOnly);
    // A CA's own key presented as a host key is no match either.
    CHECK(verdict("@cert-authority *.example ssh-ed25519 " + b64(kKeyA) + "\n", "web.example", 22, kKeyA) ==
          kh::Verdict::CertOnly);
    CHECK(verdict("@cert-authority *.example ssh-ed25519 " + b64(kKeyB) + "\n", "web.other", 22, kKeyA) ==
          kh::Verdict::Unknown);
    // A plain pin decides when both exist.
    CHECK(verdict("@cert-authority * ssh-ed25519 " + b64(kKeyB) + "\nweb.example" + a, "web.example", 22, kKeyA) ==
          kh::Verdict::Match);
}

TEST_CASE("known_hosts: bad lines are reported with file:line") {
    kh::File f = kh::parse("ok ssh-ed25519 " + b64(kKeyA) +
                               "\njust-a-host\n@weird h ssh-ed25519 " + b64(kKeyA) +
                               "\nh ssh-ed25519 not*base64\n|1|bad ssh-ed25519 " + b64(kKeyA) +
                               "\n,h ssh-ed25519 " + b64(kKeyA) + "\n",
                           "inv/known_hosts");
    CHECK(f.entries.size() == 1);
    REQUIRE(f.errors.size() == 5);
    CHECK(f.errors[0].rfind("inv/known_hosts:2: ", 0) == 0);
    CHECK(f.errors[1].rfind("inv/known_hosts:3: unknown marker", 0) == 0);
    CHECK(f.errors[2].rfind("inv/known_hosts:4: ", 0) == 0);
    CHECK(f.errors[3].rfind("inv/known_hosts:5: malformed hashed", 0) == 0);
    CHECK(f.errors[4].rfind("inv/known_hosts:6: ", 0) == 0);
}

TEST_CASE("known_hosts: append is atomic, keeps content and mode, and fails loudly") {
    test::TempDir tmp;
    auto path = tmp.write("known_hosts", "old ssh-ed25519 " + b64(kKeyA));  // no final newline
    ::chmod(path.c_str(), 0640);
    kh::append(path.string(), {kh::format_line("10.0.0.1", 2222, "ssh-ed25519", kKeyB)});
    CHECK(read_text(path) == "old ssh-ed25519 " + b64(kKeyA) + "\n[10.0.0.1]:2222 ssh-ed25519 " + b64(kKeyB) + "\n");
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    int files = 0;
    for (auto& e : std::filesystem::directory_iterator(tmp.path())) files += e.is_regular_file();
    CHECK(files == 1);  // no temp file left behind

    // A new file is created private.
    auto fresh = tmp.path() / "fresh";
    kh::append(fresh.string(), {"h ssh-ed25519 " + b64(kKeyA)});
    REQUIRE(::stat(fresh.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::filesystem::create_directory(tmp.path() / "dir");
    CHECK_THROWS_WITH_AS(kh::append((tmp.path() / "dir").string(), {"x"}), doctest::Contains("not a regular file"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(kh::append((tmp.path() / "missing/known_hosts").string(), {"x"}),
                         doctest::Contains("does not exist"), std::runtime_error);
    CHECK_THROWS_AS(kh::append("/dev/null", {"x"}), std::runtime_error);
    // read_file: a directory is an error, a missing file is empty.
    CHECK(kh::read_file((tmp.path() / "dir").string()).errors.size() == 1);
    CHECK(kh::read_file((tmp.path() / "nope").string()).errors.empty());
}
