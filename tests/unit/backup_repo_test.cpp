// The backup repository: exact restic/ssh command text (pure), snapshot listing parsing,
// then a real round trip: a files tree backed up through a real sshd into restic's sftp
// backend, listed, verified, restored onto another "provider", and a flipped byte in a pack
// caught by verify and by the restore before anything is replaced.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../integration/sshd_fixture.hpp"
#include "backup/backup.hpp"
#include "backup/repo.hpp"
#include "backup/restore.hpp"
#include "engine/pool.hpp"
#include "test_util.hpp"
#include "util/error.hpp"

using namespace decamp;
namespace fs = std::filesystem;

TEST_CASE("backup repo: restic and ssh command text") {
    backup::RepoSpec s;
    s.address = "198.18.3.11";
    s.port = 2222;
    s.user = "root";
    s.path = "/srv/decamp backup";
    s.key_file = "/lab/id ed25519";
    s.known_hosts = "/lab/known_hosts";
    s.password_file = "/tmp/decamp-restic-x/password";
    CHECK(backup::sftp_command(s) ==
          "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null "
          "-o ConnectTimeout=10 -o ServerAliveInterval=15 -o UserKnownHostsFile=/lab/known_hosts -o IdentitiesOnly=yes "
          "-i '/lab/id ed25519' -p 2222 -l root -s -- 198.18.3.11 sftp");
    CHECK(backup::repository_url(s) == "sftp:198.18.3.11:/srv/decamp backup");
    s.address = "fd00::1";
    CHECK(backup::repository_url(s) == "sftp:[fd00::1]:/srv/decamp backup");
    s.address = "198.18.3.11";
    const std::string cmd = backup::restic_cmd(s, {"dump", "abc", "/1-files-x.tar"});
    CHECK(cmd.rfind("env RESTIC_PASSWORD_FILE=/tmp/decamp-restic-x/password "
                    "'RESTIC_REPOSITORY=sftp:198.18.3.11:/srv/decamp backup' RESTIC_PROGRESS_FPS=0.1 restic --no-cache -o ",
                    0) == 0);
    CHECK(cmd.find(" dump abc /1-files-x.tar") != std::string::npos);
    // The password itself is never part of a command.
    CHECK(cmd.find("RESTIC_PASSWORD=") == std::string::npos);
}

TEST_CASE("backup repo: snapshots JSON and RFC 3339 times") {
    CHECK(backup::parse_rfc3339("2025-01-02T03:04:05Z") == 1735787045.0);
    CHECK(backup::parse_rfc3339("2025-01-02T04:04:05.5+01:00") == doctest::Approx(1735787045.5));
    CHECK_THROWS_AS(backup::parse_rfc3339("yesterday"), Error);
    auto snaps = backup::parse_snapshots(
        R"([{"time":"2025-01-02T03:04:05.123Z","paths":["/manifest.json"],"hostname":"decamp-forum",)"
        R"("tags":["decamp-manifest","decamp-id:20250102T030405Z-ab12","decamp-bytes:42"],"id":"0123456789abcdef","short_id":"01234567"}])");
    REQUIRE(snaps.size() == 1);
    CHECK(snaps[0].tag_value("decamp-id") == "20250102T030405Z-ab12");
    CHECK(snaps[0].tag_value("decamp-bytes") == "42");
    CHECK(snaps[0].tag_value("decamp") == "");
    CHECK(backup::parse_snapshots("null").empty());
    CHECK_THROWS_AS(backup::parse_snapshots("{"), Error);
}

namespace {

std::string sh_out(const std::string& cmd) {
    auto t = transport::make_local();
    auto r = t->run(cmd);
    INFO(cmd);
    INFO(r.err);
    REQUIRE(r.exit_status == 0);
    return r.out;
}

}  // namespace

TEST_CASE("backup: files round trip through sshd + restic, corruption detected") {
    std::string why = test::Sshd::unavailable();
    if (why.empty() && std::system("command -v restic >/dev/null 2>&1") != 0) why = "no restic";
    if (!why.empty()) {
        MESSAGE("skipped: " << why);
        return;
    }
    test::TempDir tmp;
    fs::create_directories(tmp.path() / "sshd");
    test::Sshd sshd(tmp.path() / "sshd");
    auto key = sshd.client_key();
    auto kh = sshd.write_known_hosts();
    const fs::path src = tmp.path() / "up loads";
    fs::create_directories(src / "sub dir");
    std::ofstream(src / "a.txt") << "alpha";
    std::ofstream(src / "sub dir" / "b 'quoted'.bin") << std::string(300000, 'x') << "tail";
    std::ofstream(src / "empty");
    tmp.write("pw", "correct horse battery staple");
    tmp.write("play.yml", "- hosts: web\n  tasks: []\n");
    const std::string inv_text =
        "project: forum\n"
        "ssh: { user: root, key: '" + key.string() + "', known_hosts: '" + kh.string() + "' }\n"
        "providers:\n"
        "  prod: { kind: local, hosts: { prod-web1: { address: local, roles: [web] } } }\n"
        "  spare: { kind: local, hosts: { spare-web1: { address: local, roles: [web] } } }\n"
        "active: prod\n"
        "roles: { web: { playbooks: [play.yml] } }\n"
        "data:\n  - { kind: files, role: web, path: '" + src.string() + "' }\n"
        "backup: { address: 127.0.0.1, port: " + std::to_string(sshd.port()) + ", path: '" + (tmp.path() / "re po").string() +
        "', secret: backup_key, keep: { last: 2 } }\n"
        "secrets: { backup_key: '${file:pw}' }\n";
    auto inv = inventory::load(tmp.write("inv.yml", inv_text));

    backup::Repo repo(inv);
    engine::Pool pool(inv);
    backup::ConnectFn conn = [&](const inventory::Host& h) -> transport::Transport& { return pool.get(h); };
    std::ostringstream log;
    auto m = backup::run_backup(inv, repo, "prod", conn, log);
    INFO(log.str());
    REQUIRE(m.data.size() == 1);
    CHECK(m.data[0].files.size() == 3);
    CHECK(m.data[0].files.at("a.txt") == "8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8");
    // The password never reaches the repository host in clear: the config is encrypted.
    CHECK(sh_out("grep -rl 'correct horse' " + shell::quote((tmp.path() / "re po").string()) + " || true").empty());

    auto list = backup::list_backups(repo);
    REQUIRE(list.size() == 1);
    CHECK(list[0].id == m.id);
    auto loaded = backup::load_manifest(repo, "latest");
    CHECK(backup::encode(loaded) == backup::encode(m));
    auto v = backup::verify_backup(repo, loaded, true, log);
    CHECK(v.ok());

    // Restore onto the other provider (the same directory here): a deleted file comes back.
    fs::remove(src / "a.txt");
    std::ofstream(src / "new-after-backup") << "x";
    auto rr = backup::restore_latest(inv, "spare", conn, m.id.substr(0, 10), log);
    CHECK(rr.backup_id == m.id);
    CHECK(fs::exists(src / "a.txt"));
    CHECK(!fs::exists(src / "new-after-backup"));
    CHECK(backup::check_against_manifest(inv, m, "spare", conn).empty());

    // Flip one byte in the biggest pack file: verify fails, restore refuses and leaves the tree.
    std::string pack = sh_out("find " + shell::quote((tmp.path() / "re po" / "data").string()) +
                              " -type f -printf '%s %p\\n' | sort -n | tail -n 1 | cut -d' ' -f2-");
    while (!pack.empty() && pack.back() == '\n') pack.pop_back();
    {
        std::fstream f(pack, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(200);
        char c;
        f.get(c);
        f.seekp(200);
        f.put(char(c ^ 0x01));
    }
    auto bad = backup::verify_backup(repo, loaded, true, log);
    CHECK(!bad.ok());
    std::ofstream(src / "marker") << "still here";
    CHECK_THROWS_AS(backup::restore_latest(inv, "spare", conn, "latest", log), Error);
    CHECK(fs::exists(src / "marker"));
    CHECK(!fs::exists(src.string() + ".decamp-restore"));
}
