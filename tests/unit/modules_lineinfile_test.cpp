#include <doctest/doctest.h>

#include <filesystem>

#include "modules/lineinfile.hpp"
#include "modules_sh.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::test;
namespace fs = std::filesystem;

namespace {

struct Case {
    const char* name;
    std::string before;
    Value args;  // without path
    std::string after;
};

// Ansible's documented behaviour, case by case. Each runs three ways: the pure C++ function,
// the host-side probe + change with /bin/sh and perl, and again for idempotence.
std::vector<Case> cases() {
    return {
        {"append at EOF", "a\nb\n", args({{"line", S("c")}}), "a\nb\nc\n"},
        {"already there", "a\nc\nb\n", args({{"line", S("c")}}), "a\nc\nb\n"},
        {"no final newline", "a", args({{"line", S("c")}}), "a\nc\n"},
        {"regexp replaces last match", "x=1\ny=2\nx=3\n", args({{"line", S("x=9")}, {"regexp", S("^x=")}}), "x=1\ny=2\nx=9\n"},
        {"regexp firstmatch", "x=1\ny=2\nx=3\n", args({{"line", S("x=9")}, {"regexp", S("^x=")}, {"firstmatch", B(true)}}), "x=9\ny=2\nx=3\n"},
        {"regexp no match appends", "a\n", args({{"line", S("x=9")}, {"regexp", S("^x=")}}), "a\nx=9\n"},
        {"regexp no match but line present", "x=9\n", args({{"line", S("x=9")}, {"regexp", S("^nomatch")}}), "x=9\n"},
        {"regexp with $ anchor", "Port 22\n", args({{"line", S("Port 2222")}, {"regexp", S("^Port \\d+$")}}), "Port 2222\n"},
        {"insertafter regex", "[main]\nk=v\n[other]\n", args({{"line", S("new=1")}, {"insertafter", S("^\\[main\\]")}}), "[main]\nnew=1\nk=v\n[other]\n"},
        {"insertafter no match -> EOF", "a\n", args({{"line", S("n")}, {"insertafter", S("^zzz")}}), "a\nn\n"},
        {"insertbefore regex", "a\nb\n", args({{"line", S("n")}, {"insertbefore", S("^b")}}), "a\nn\nb\n"},
        {"insertbefore BOF", "a\n", args({{"line", S("#!/bin/sh")}, {"insertbefore", S("BOF")}}), "#!/bin/sh\na\n"},
        {"insertafter last match", "k\nk\nz\n", args({{"line", S("n")}, {"insertafter", S("^k")}}), "k\nk\nn\nz\n"},
        {"backrefs", "host=old.example\n", args({{"line", S("\\1new.example")}, {"regexp", S("^(host=).*")}, {"backrefs", B(true)}}), "host=new.example\n"},
        {"backrefs no match leaves file", "a\n", args({{"line", S("\\1x")}, {"regexp", S("^(zz)")}, {"backrefs", B(true)}}), "a\n"},
        {"search_string", "foo bar\nbaz\n", args({{"line", S("qux")}, {"search_string", S("o b")}}), "qux\nbaz\n"},
        {"absent by line", "a\nb\na\n", args({{"line", S("a")}, {"state", S("absent")}}), "b\n"},
        {"absent by regexp", "#x\ny\n#z\n", args({{"regexp", S("^#")}, {"state", S("absent")}}), "y\n"},
        {"absent nothing", "y\n", args({{"line", S("a")}, {"state", S("absent")}}), "y\n"},
        {"crlf line rewritten", "a\r\nb\n", args({{"line", S("a")}}), "a\nb\n"},
        {"hostile line", "x\n", args({{"line", S("$(touch pwned) `touch pwned` '; touch pwned #")}}), "x\n$(touch pwned) `touch pwned` '; touch pwned #\n"},
        {"hostile regexp", "a'b\n", args({{"line", S("ok")}, {"regexp", S("'b$|$(touch pwned)")}}), "ok\n"},
        {"regexp metachars in line are literal", "a\n", args({{"line", S("^.*[x]\\1$")}}), "a\n^.*[x]\\1$\n"},
    };
}

modules::LineinfileSpec spec_of(const Value& a) {
    modules::LineinfileSpec s;
    auto get = [&](const char* k) -> std::optional<std::string> {
        const Value* v = a.get(k);
        if (!v) return std::nullopt;
        return v->as_string();
    };
    s.present = get("state").value_or("present") == "present";
    s.line = get("line");
    s.regexp = get("regexp");
    s.search_string = get("search_string");
    s.insertafter = get("insertafter");
    s.insertbefore = get("insertbefore");
    s.backrefs = a.get("backrefs") && a.get("backrefs")->as_bool();
    s.firstmatch = a.get("firstmatch") && a.get("firstmatch")->as_bool();
    return s;
}

}  // namespace

TEST_CASE("lineinfile: Ansible cases, pure function and real run agree") {
    TempDir dir;
    for (const auto& c : cases()) {
        INFO(c.name);
        auto r = modules::lineinfile_apply(c.before, spec_of(c.args));
        CHECK(r.content == c.after);
        CHECK(r.changed == (c.before != c.after));

        auto p = dir.write("f", c.before);
        Value a = c.args;
        a.set("path", S(p.string()));
        auto act = plan("lineinfile", a);
        CHECK(run_sh(act.probe, dir.path()).code == (c.before == c.after ? 0 : 1));
        auto ch = run_sh(act.change, dir.path());
        REQUIRE_MESSAGE(ch.code == 0, ch.out);
        CHECK(read_file(p) == c.after);
        CHECK(run_sh(act.probe, dir.path()).code == 0);  // idempotent
        CHECK(act.desired(c.before) == c.after);
    }
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));
}

TEST_CASE("lineinfile: create, missing file, directory, mode, symlink kept") {
    TempDir dir;
    auto p = dir.path() / "sub dir" / "new.conf";
    auto no_create = plan("lineinfile", args({{"path", S(p.string())}, {"line", S("x")}}));
    auto r = run_sh(no_create.probe);
    CHECK(r.code == 2);
    CHECK(r.out.find("does not exist") != std::string::npos);

    auto create = plan("lineinfile", args({{"path", S(p.string())}, {"line", S("x")}, {"create", S("yes")}, {"mode", S("0640")}}));
    CHECK(run_sh(create.probe).code == 1);
    auto ch = run_sh(create.change);
    REQUIRE_MESSAGE(ch.code == 0, ch.out);
    CHECK(read_file(p) == "x\n");
    CHECK((fs::status(p).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    CHECK(run_sh(create.probe).code == 0);

    auto absent_missing = plan("lineinfile", args({{"path", S((dir.path() / "nofile").string())}, {"line", S("x")}, {"state", S("absent")}}));
    CHECK(run_sh(absent_missing.probe).code == 0);

    auto on_dir = plan("lineinfile", args({{"path", S(dir.path().string())}, {"line", S("x")}}));
    CHECK(run_sh(on_dir.probe).code == 2);

    // Existing mode is kept; a symlink is followed (the target is edited, the link stays).
    auto target = dir.write("target", "a\n");
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);
    fs::create_symlink("target", dir.path() / "link");
    auto via_link = plan("lineinfile", args({{"path", S((dir.path() / "link").string())}, {"line", S("b")}}));
    REQUIRE(run_sh(via_link.change).code == 0);
    CHECK(fs::is_symlink(dir.path() / "link"));
    CHECK(read_file(target) == "a\nb\n");
    CHECK((fs::status(target).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

    // Hostile path.
    auto hostile = dir.write("'; touch pwned #", "");
    auto h = plan("lineinfile", args({{"path", S(hostile.string())}, {"line", S("$(touch pwned)")}}));
    REQUIRE(run_sh(h.change, dir.path()).code == 0);
    CHECK(read_file(hostile) == "$(touch pwned)\n");
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));
}

TEST_CASE("lineinfile: argument errors") {
    CHECK(arg_error_key("lineinfile", args({{"path", S("/x")}})) == "line");
    CHECK(arg_error_key("lineinfile", args({{"line", S("x")}})) == "path");
    CHECK(arg_error_key("lineinfile", args({{"path", S("/x")}, {"state", S("absent")}})) == "line");
    CHECK(arg_error_key("lineinfile", args({{"path", S("/x")}, {"line", S("a")}, {"insertafter", S("a")}, {"insertbefore", S("b")}})) == "insertbefore");
    CHECK(arg_error_key("lineinfile", args({{"path", S("/x")}, {"line", S("a")}, {"regexp", S("")}})) == "regexp");
    CHECK(arg_error_key("lineinfile", args({{"path", S("/x")}, {"line", S("a\nb")}})) == "line");
    CHECK(arg_error_key("lineinfile", args({{"path", S("/x")}, {"line", S("a")}, {"backrefs", B(true)}})) == "backrefs");
    CHECK(arg_error_key("lineinfile", args({{"path", S("/x")}, {"line", S("a")}, {"backup", B(true)}})) == "backup");
    CHECK(arg_error_key("lineinfile", args({{"dest", S("/x")}, {"line", S("a")}, {"regexp", S("a")}, {"search_string", S("a")}})) == "search_string");
    CHECK(arg_error_key("lineinfile",
                        args({{"path", S("/x")}, {"line", S("a")}, {"validate", S("visudo -c")}})) ==
          "validate");
}

TEST_CASE("lineinfile: validate runs on the new file (argv, no shell) before it replaces the old one") {
    TempDir dir;
    auto p = dir.write("sshd_config", "Port 22\n");
    // Accepted: the command sees the new content at %s.
    auto ok = plan("lineinfile", args({{"path", S(p.string())},
                                       {"line", S("PermitRootLogin no")},
                                       {"validate", S("grep -q 'PermitRootLogin no' %s")}}));
    auto r = run_sh(ok.change);
    REQUIRE_MESSAGE(r.code == 0, r.out);
    CHECK(read_file(p) == "Port 22\nPermitRootLogin no\n");
    // Refused: the file stays as it was, no temp file is left, the step fails saying why.
    auto bad = plan("lineinfile", args({{"path", S(p.string())},
                                        {"line", S("Port 2222")},
                                        {"regexp", S("^Port")},
                                        {"validate", S("grep -q 'Port 22$' %s")}}));
    r = run_sh(bad.change);
    CHECK(r.code != 0);
    CHECK(r.out.find("validation failed: grep exited 1") != std::string::npos);
    CHECK(read_file(p) == "Port 22\nPermitRootLogin no\n");
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
    CHECK(files == 1);
    // Not a shell: metacharacters are arguments.
    auto hostile =
        plan("lineinfile",
             args({{"path", S(p.string())}, {"line", S("x")}, {"validate", S("test -f %s; touch pwned")}}));
    CHECK(run_sh(hostile.change, dir.path()).code != 0);
    CHECK_FALSE(fs::exists(dir.path() / "pwned"));
}
