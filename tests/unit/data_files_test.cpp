// The files mover's backup side: the exact commands (tar out, staged unpack, swap, removal),
// both diffs, and its hooks over a recording transport.
#include <doctest/doctest.h>

#include "backup/backup.hpp"
#include "data/files.hpp"
#include "data/mover.hpp"
#include "transport/recording.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

using namespace decamp;
namespace fm = decamp::data::files;

namespace {

inventory::DataSet uploads() {
    inventory::DataSet ds;
    ds.kind = "files";
    ds.role = "web";
    ds.name = "/srv/forum/uploads";
    return ds;
}

inventory::Host host(const std::string& name) {
    inventory::Host h;
    h.name = name;
    h.address = "198.18.2.11";
    return h;
}

const std::string kSha(64, 'a');

}  // namespace

TEST_CASE("files commands") {
    CHECK(fm::archive_cmd("/srv/it's") == "tar -C '/srv/it'\\''s' --numeric-owner -cf - .");
    CHECK(fm::staging_path("/srv/u") == "/srv/u.decamp-restore");
    CHECK(fm::unpack_cmd("/srv/u.decamp-restore") ==
          "rm -rf -- /srv/u.decamp-restore && mkdir -p -- /srv/u.decamp-restore && tar -C /srv/u.decamp-restore --numeric-owner -xpf -");
    CHECK(fm::swap_cmd("/srv/u") ==
          "rm -rf -- /srv/u.decamp-old && { if [ -e /srv/u ]; then mv -T -- /srv/u /srv/u.decamp-old; fi; } && "
          "mv -T -- /srv/u.decamp-restore /srv/u && rm -rf -- /srv/u.decamp-old");
    CHECK(fm::remove_cmd("/srv/u") == "rm -rf -- /srv/u /srv/u.decamp-restore");
}

TEST_CASE("files_diff and compare_files") {
    std::map<std::string, std::string> want = {{"a", "1"}, {"b", "2"}};
    CHECK(fm::files_diff(want, want) == "");
    CHECK(fm::compare_files(want, want) == "");
    std::map<std::string, std::string> got = {{"a", "9"}, {"c", "3"}};
    CHECK(fm::files_diff(want, got) == "a differs; b missing; c is not in the backup");
    CHECK(fm::compare_files(want, got) == "missing: b; content differs: a; not in the backup: c");
    std::map<std::string, std::string> many;
    for (int i = 0; i < 7; ++i) many["f" + std::to_string(i)] = "x";
    CHECK(fm::compare_files(many, {}) == "missing: f0, f1, f2, f3, f4, … (7)");
    std::string d = fm::files_diff(many, {});
    CHECK(d.find("; … (7 differences)") == d.size() - std::string("; … (7 differences)").size());
}

TEST_CASE("files mover: stream name, evidence, every host of the role, manifest round trip") {
    auto m = data::make_mover(uploads());
    CHECK(m->stream_ext() == ".tar");
    CHECK(backup::stream_name(2, uploads()) == "2-files-srv_forum_uploads.tar");
    CHECK(m->restore_on_every_host());
    data::DataEntry e;
    e.kind = "files";
    e.name = "/srv/forum/uploads";
    e.files = {{"a.bin", kSha}};
    CHECK(m->evidence(e) == "1 files");
    json::Value v;
    m->encode_evidence(e, v);
    data::DataEntry back;
    data::make_mover(e)->decode_evidence(v, back);
    CHECK(back.files == e.files);
    CHECK(data::make_mover(e)->name() == "/srv/forum/uploads");
}

TEST_CASE("files backup read: tar's exit 1 is a whole stream; a truncated archive is refused") {
    auto m = data::make_mover(uploads());
    auto h = host("old-web1");
    {
        transport::RecordingTransport t("web1");
        auto r = m->backup(t, h, "id");
        CHECK(r->command() == fm::archive_cmd("/srv/forum/uploads"));
        CHECK(r->ok_status() == 1);
        CHECK(r->what() == "archiving /srv/forum/uploads");
        r->tap(std::string(1024, '\0'));  // an empty archive: its two end blocks
        t.push_result(0, "tar (GNU tar) 1.35\n");
        data::DataEntry e;
        std::map<std::string, std::string> sw;
        r->finish(e, sw);
        CHECK(e.files.empty());
        CHECK(sw.at("tar") == "tar (GNU tar) 1.35");
    }
    {
        transport::RecordingTransport t("web1");
        auto r = m->backup(t, h, "id");
        r->tap(std::string(512, '\0'));
        data::DataEntry e;
        std::map<std::string, std::string> sw;
        try {
            r->finish(e, sw);
            FAIL("a truncated archive must throw");
        } catch (const Error& x) {
            CHECK(std::string(x.what()) == "the archive of /srv/forum/uploads from old-web1 is truncated");
        }
    }
}

TEST_CASE("files staged restore and teardown") {
    auto m = data::make_mover(uploads());
    auto h = host("new-web2");
    data::DataEntry e;
    e.kind = "files";
    e.name = "/srv/forum/uploads";
    e.files = {{"a.bin", kSha}};
    transport::RecordingTransport t("web2");
    auto st = m->stage(t, h, e);
    CHECK(t.commands().empty());  // nothing happens on the host before the stream
    CHECK(st->sink() == fm::unpack_cmd("/srv/forum/uploads.decamp-restore"));
    t.push_result(0, kSha + "  ./a.bin" + std::string(1, '\0'));
    CHECK(st->check() == "1 files, sha256 match");
    t.push_result(0, std::string(64, 'b') + "  ./a.bin" + std::string(1, '\0'));
    try {
        st->check();
        FAIL("a different checksum must throw");
    } catch (const Error& x) {
        CHECK(std::string(x.what()) == "restored files /srv/forum/uploads on new-web2: a.bin differs");
    }
    st->swap();
    st->unstage();
    auto cmds = t.commands();
    REQUIRE(cmds.size() == 4);
    CHECK(cmds[2] == fm::swap_cmd("/srv/forum/uploads"));
    CHECK(cmds[3] == "rm -rf -- /srv/forum/uploads.decamp-restore");

    transport::RecordingTransport t2("web2");
    CHECK(m->teardown(t2, h) == "new-web2: /srv/forum/uploads removed");
    t2.push_result(1, "", "busy\n");
    CHECK(m->teardown(t2, h) == "new-web2: /srv/forum/uploads NOT removed (busy)");
}
