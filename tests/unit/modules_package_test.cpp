#include <doctest/doctest.h>

#include <algorithm>

#include "modules/args.hpp"
#include "modules_sh.hpp"

using namespace decamp;
using namespace decamp::test;

TEST_CASE("apt: probe asks dpkg only, change installs only what is missing") {
    auto act = plan("apt", args({{"name", Value::list({S("nginx"), S("curl")})}, {"update_cache", S("yes")}}));
    CHECK(act.probe.find("dpkg-query -W") != std::string::npos);
    CHECK(act.probe.find("apt-get") == std::string::npos);  // no network in a probe
    CHECK(act.change.find("apt-get update") < act.change.find("apt-get install"));
    CHECK(act.change.find("DEBIAN_FRONTEND=noninteractive apt-get install -y -q") != std::string::npos);
    CHECK(act.change.find("-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold") != std::string::npos);
    CHECK(act.change.find("[ $# -eq 0 ] && exit 0") < act.change.find("apt-get update"));
    CHECK(act.change.find(" \"$@\"") != std::string::npos);
    CHECK(act.change_text == "+ nginx\n+ curl\n");
    CHECK(act.summary == "package nginx curl present");
    auto same = plan("ansible.builtin.package", args({{"name", S("nginx,curl")}}));
    CHECK(same.change_text == act.change_text);
}

TEST_CASE("apt: probe runs against this host's dpkg") {
    if (run_sh("command -v dpkg-query").code != 0) return;  // not a Debian host
    auto installed = plan("apt", args({{"name", S("dpkg")}}));
    CHECK(run_sh(installed.probe).code == 0);
    auto missing = plan("apt", args({{"name", Value::list({S("dpkg"), S("decamp-no-such-package")})}}));
    auto r = run_sh(missing.probe);
    CHECK(r.code == 1);
    CHECK(r.out == "+ decamp-no-such-package\n");
    auto absent = plan("apt", args({{"name", S("decamp-no-such-package")}, {"state", S("absent")}}));
    CHECK(run_sh(absent.probe).code == 0);
    auto remove = plan("apt", args({{"name", S("dpkg")}, {"state", S("absent")}}));
    CHECK(run_sh(remove.probe).code == 1);
    auto pinned = plan("apt", args({{"name", S("dpkg=0.0-decamp")}}));
    CHECK(run_sh(pinned.probe).code == 1);
    // The change's package selection (apt-get replaced by echo) picks only the missing one.
    std::string dry = missing.change;
    for (size_t pos; (pos = dry.find("apt-get install")) != std::string::npos;) dry.replace(pos, 15, "echo install");
    CHECK(run_sh(dry).out.find("install -y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold decamp-no-such-package\n") != std::string::npos);
}

TEST_CASE("apt: names are validated and quoted") {
    CHECK(arg_error_key("apt", args({{"name", S("nginx; rm -rf /")}})) == "name");
    CHECK(arg_error_key("apt", args({{"name", S("Nginx")}})) == "name");
    CHECK(arg_error_key("apt", args({{"name", S("-y")}})) == "name");
    CHECK(arg_error_key("apt", args({{"name", S("$(x)")}})) == "name");
    CHECK(arg_error_key("apt", args({{"name", S("nginx=$(x)")}})) == "name");
    CHECK(arg_error_key("apt", args({})) == "name");
    CHECK(arg_error_key("apt", args({{"name", S("nginx")}, {"state", S("installed-ish")}})) == "state");
    CHECK(arg_error_key("apt", args({{"name", S("nginx=1.0")}, {"state", S("latest")}})) == "name");
    CHECK(arg_error_key("apt", args({{"name", S("nginx")}, {"update_cache", S("sometimes")}})) == "update_cache");
    CHECK(arg_error_key("apt", args({{"name", S("nginx")}, {"deb", S("/x.deb")}})) == "deb");
    CHECK_NOTHROW(plan("apt", args({{"name", S("libstdc++6:amd64")}})));
    auto latest = plan("apt", args({{"name", S("nginx")}, {"state", S("latest")}, {"update_cache", B(true)}, {"cache_valid_time", I(3600)}}));
    CHECK(latest.probe.find("apt-cache policy") != std::string::npos);
    CHECK(latest.change.find("-newermt \"@$(( $(date +%s) - 3600 ))\"") != std::string::npos);
    auto purge = plan("apt", args({{"name", S("nginx")}, {"state", S("absent")}, {"purge", B(true)}}));
    CHECK(purge.change.find("apt-get purge") != std::string::npos);
    CHECK(purge.change_text == "- nginx\n");
}

TEST_CASE("apt: update_cache alone refreshes the lists; with cache_valid_time only when they are old") {
    auto always = plan("apt", args({{"update_cache", S("yes")}}));
    CHECK(always.change.find("apt-get update") != std::string::npos);
    CHECK(always.change.find("apt-get install") == std::string::npos);
    CHECK(always.probe.find("exit 1") != std::string::npos);
    CHECK(always.probe.find("-newermt") == std::string::npos);
    auto timed =
        plan("ansible.builtin.apt", args({{"update_cache", S("true")}, {"cache_valid_time", S("3600")}}));
    CHECK(timed.probe.find("-newermt") != std::string::npos);
    CHECK(timed.probe.find("3600") != std::string::npos);
    CHECK(timed.summary == "apt cache updated when older than 3600 s");
    CHECK_THROWS(plan("apt", args({{"cache_valid_time", S("3600")}})));  // neither name nor update_cache
}

TEST_CASE("apt: default_release installs from that release") {
    auto act = plan("apt", args({{"name", S("nginx")}, {"default_release", S("bookworm-backports")}}));
    CHECK(act.change.find("apt-get install -y -q") != std::string::npos);
    CHECK(act.change.find(" -t bookworm-backports") != std::string::npos);
    CHECK_THROWS(plan("apt", args({{"name", S("nginx")}, {"default_release", S("x; rm -rf /")}})));
}

TEST_CASE("apt: allow_downgrade lets a version pin install an older version") {
    auto act = plan("apt", args({{"name", S("nginx=1.22.1-9")}, {"allow_downgrade", B(true)}}));
    CHECK(act.change.find("apt-get install -y -q") != std::string::npos);
    CHECK(act.change.find(" --allow-downgrades") != std::string::npos);
    CHECK(plan("apt", args({{"name", S("nginx")}})).change.find("--allow-downgrades") == std::string::npos);
}

TEST_CASE("package: yum/dnf arguments load, and fail where the task runs (this host uses apt)") {
    const auto& pkg = modules::find("package")->allowed_args();
    const auto& apt = modules::find("apt")->allowed_args();
    CHECK(std::find(pkg.begin(), pkg.end(), "enablerepo") != pkg.end());
    CHECK(std::find(apt.begin(), apt.end(), "enablerepo") == apt.end());
    Value a = args({{"name", S("git")}, {"enablerepo", S("epel")}});
    bool arg_error = false;
    std::string what;
    try {
        (void)plan("package", a);
    } catch (const modules::ArgError&) {
        arg_error = true;
    } catch (const Error& e) {
        what = e.what();
    }
    CHECK_FALSE(arg_error);  // an ArgError would fail the load
    CHECK(what.find("enablerepo is an argument of yum/dnf") != std::string::npos);
}
