#include <doctest/doctest.h>

#include "util/names.hpp"

using namespace decamp;

TEST_CASE("names: systemd units") {
    for (const char* ok : {"forum", "forum.service", "getty@tty1.service", "a-b_c:d", "x\\x2d.mount"})
        CHECK_MESSAGE(names::check_unit(ok).empty(), ok);
    for (const char* bad : {"", "--version", "-x", ".hidden", "a b", "a;b", "a\nb", "$(id)", "a/b", "a'b"})
        CHECK_MESSAGE(!names::check_unit(bad).empty(), bad);
    CHECK(!names::check_unit(std::string(256, 'a')).empty());
}

TEST_CASE("names: absolute normalized paths") {
    for (const char* ok : {"/srv/forum/uploads", "/a", "/srv/with space", "/srv/-x"})
        CHECK_MESSAGE(names::check_abs_path(ok).empty(), ok);
    for (const char* bad : {"", "/", "srv", "-rf", "/srv/../etc", "/srv/./x", "//srv", "/srv/", "/a\nb", "/a\tb"})
        CHECK_MESSAGE(!names::check_abs_path(bad).empty(), bad);
    CHECK(!names::check_abs_path(std::string("/a\0b", 4)).empty());
}

TEST_CASE("names: PostgreSQL names, users, inventory names") {
    for (const char* ok : {"forum", "_x", "forum-prod", "a$1"}) CHECK_MESSAGE(names::check_pg_name(ok).empty(), ok);
    for (const char* bad : {"", "-d", "1db", "a b", "a\"b", "a;b", "dbname=x"}) CHECK_MESSAGE(!names::check_pg_name(bad).empty(), bad);
    CHECK(!names::check_pg_name(std::string(64, 'a')).empty());
    for (const char* ok : {"root", "deploy", "svc.forum", "a-b"}) CHECK_MESSAGE(names::check_user(ok).empty(), ok);
    for (const char* bad : {"", "-oProxyCommand=x", "a b", "a@b", "a;b"}) CHECK_MESSAGE(!names::check_user(bad).empty(), bad);
    for (const char* ok : {"web1", "old-web1", "_x", "a.b"}) CHECK_MESSAGE(names::check_name(ok).empty(), ok);
    for (const char* bad : {"", "-x", "..", ".x", "a/b", "a b"}) CHECK_MESSAGE(!names::check_name(bad).empty(), bad);
}

TEST_CASE("names: DNS names, host headers, URLs") {
    for (const char* ok : {"example.com.", "www.example.com.", "_acme-challenge.example.com.", "*.example.com.", "."})
        CHECK_MESSAGE(names::check_fqdn(ok).empty(), ok);
    for (const char* bad : {"", "example.com", "-x.example.com.", "a..b.", "a b.example.", "x\n.example.", "a;b.example.",
                            "/etc/passwd."})
        CHECK_MESSAGE(!names::check_fqdn(bad).empty(), bad);
    for (const char* ok : {"forum.example.test", "forum.example.test:8080", "198.18.1.11", "[::1]:80", "::1"})
        CHECK_MESSAGE(names::check_host_port(ok).empty(), ok);
    for (const char* bad : {"", "a b", "a\r\nX-Evil: 1", "-x", "host:0", "host:99999", "host:", "a/b"})
        CHECK_MESSAGE(!names::check_host_port(bad).empty(), bad);
    for (const char* ok : {"http://{{ host.address }}/healthz", "https://forum.example.test:8443/x?y=1", "http://198.18.1.11/"})
        CHECK_MESSAGE(names::check_http_url(ok).empty(), ok);
    for (const char* bad : {"ftp://x/", "http://", "http:///x", "http://a b/", "http://x/\r\nHost: y", "http://u:p@x/",
                            "http://-x/", "http://x/'$(id)'"})
        CHECK_MESSAGE(!names::check_http_url(bad).empty(), bad);
}

TEST_CASE("names: host addresses") {
    for (const char* ok : {"198.18.1.11", "2001:db8::12", "web1.example.net", "web1", "web1.example.net."})
        CHECK_MESSAGE(names::check_address(ok).empty(), ok);
    for (const char* bad : {"", "198.18.1.999", "a b", "-x", "web1..example", "[2001:db8::12]", "host:22", "a\nb"})
        CHECK_MESSAGE(!names::check_address(bad).empty(), bad);
}
