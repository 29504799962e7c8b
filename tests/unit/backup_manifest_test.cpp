// Manifest encode/decode round trip, ids, and refusal of malformed manifests.
#include <doctest/doctest.h>

#include "backup/manifest.hpp"
#include "util/error.hpp"

using namespace decamp;

TEST_CASE("manifest: encode/decode round trip") {
    backup::Manifest m;
    m.id = backup::make_id(1735787045.0, "ab12");
    CHECK(m.id == "20250102T030405Z-ab12");
    CHECK(backup::valid_id(m.id));
    m.project = "forum";
    m.provider = "old";
    m.time = 1735787045.25;
    m.seconds = 3.5;
    m.software = {{"decamp", "0.1.0"}, {"pg_dump", "pg_dump (PostgreSQL) 15.8"}};
    backup::DataEntry pg;
    pg.kind = "postgres";
    pg.name = "forum";
    pg.role = "db";
    pg.host = "old-db1";
    pg.stream = "1-postgres-forum.dump";
    pg.snapshot = "0123abcd";
    pg.bytes = 123456;
    pg.sha256 = std::string(64, 'a');
    pg.owner = "forum";
    pg.encoding = "UTF8";
    pg.collate = pg.ctype = "C.UTF-8";
    pg.tables = {{"public.posts", 42}, {"\"odd\"\"schema\".\"t\\tab\"", 0}};
    backup::DataEntry f;
    f.kind = "files";
    f.name = "/srv/forum/uploads";
    f.role = "web";
    f.host = "old-web1";
    f.stream = "2-files-srv_forum_uploads.tar";
    f.snapshot = "4567";
    f.files = {{"a.txt", std::string(64, 'b')}, {"dir/ü \"q\".png", std::string(64, 'c')}};
    m.data = {pg, f};
    const std::string text = backup::encode(m);
    CHECK(text.find("\"time_iso\":\"2025-01-02T03:04:05Z\"") != std::string::npos);
    auto back = backup::decode(text);
    CHECK(backup::encode(back) == text);
    CHECK(back.total_bytes() == 123456);
    REQUIRE(back.find("postgres", "forum"));
    CHECK(back.find("postgres", "forum")->tables.at("public.posts") == 42);
    CHECK(back.find("files", "/srv/forum/uploads")->files.size() == 2);
    CHECK(back.find("files", "/nope") == nullptr);
}

TEST_CASE("manifest: malformed input is an Error") {
    CHECK_THROWS_AS(backup::decode("not json"), Error);
    CHECK_THROWS_AS(backup::decode("[]"), Error);
    CHECK_THROWS_AS(backup::decode(R"({"format":2,"id":"x"})"), Error);
    CHECK_THROWS_AS(backup::decode(R"({"format":1,"id":"../x","project":"p","provider":"o","time":1})"), Error);
    CHECK_THROWS_AS(backup::decode(R"({"format":1,"id":"a","project":"p","provider":"o","time":1,"data":[{"kind":"files","name":"/x","role":"web","host":"h","stream":"../../etc/passwd","snapshot":"s","bytes":1,"sha256":"x"}]})"),
                    Error);
    CHECK(!backup::valid_id(""));
    CHECK(!backup::valid_id("-rf"));
    CHECK(!backup::valid_id("a b"));
}

TEST_CASE("manifest: file names that are not UTF-8 keep their exact bytes") {
    backup::Manifest m;
    m.id = "20250102T030405Z-ab12";
    m.project = "forum";
    m.provider = "old";
    m.time = 1735787045;
    backup::DataEntry f;
    f.kind = "files";
    f.name = "/srv/forum/uploads";
    f.role = "web";
    f.host = "old-web1";
    f.stream = "2-files.tar";
    f.snapshot = "4567";
    const std::string latin1 = "caf\xe9.txt";  // a Latin-1 name: any bytes are a Linux name
    f.files = {{"ok.txt", std::string(64, 'a')}, {latin1, std::string(64, 'b')}};
    m.data = {f};
    const std::string text = backup::encode(m);
    CHECK(text.find("\"files\":{\"ok.txt\":") != std::string::npos);
    CHECK(text.find("\"files_hex\":{\"636166e92e747874\":") != std::string::npos);
    auto back = backup::decode(text);
    CHECK(back.data.at(0).files == f.files);
    CHECK(backup::encode(back) == text);
    CHECK_THROWS_AS(backup::decode(R"({"format":1,"id":"a","project":"p","provider":"o","time":1,"data":[{"kind":"files","name":"/x","role":"web","host":"h","stream":"s","snapshot":"s","bytes":1,"sha256":"x","files_hex":{"6g":"x"}}]})"),
                    Error);
}
