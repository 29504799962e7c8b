// --tags / --skip-tags as Ansible documents them, including always, never, tagged, untagged.
#include <doctest/doctest.h>

#include "plan/tags.hpp"
#include "playbook/playbook.hpp"

using namespace decamp;
using plan::parse_tag_filter;
using plan::selected;
using V = std::vector<std::string>;

TEST_CASE("tags: no filter runs everything but never") {
    auto f = parse_tag_filter("", "");
    CHECK(selected({}, f));
    CHECK(selected(V{"web"}, f));
    CHECK(selected(V{"always"}, f));
    CHECK(!selected(V{"never"}, f));
    CHECK(!selected(V{"never", "debug"}, f));
}

TEST_CASE("tags: --tags selects by tag; always still runs; never only when asked by one of its tags") {
    auto f = parse_tag_filter("web, db", "");
    CHECK(f.only == V{"web", "db"});
    CHECK(selected(V{"web"}, f));
    CHECK(selected(V{"x", "db"}, f));
    CHECK(!selected(V{"x"}, f));
    CHECK(!selected({}, f));
    CHECK(selected(V{"always"}, f));
    CHECK(!selected(V{"never"}, f));
    CHECK(selected(V{"never", "web"}, f));
    CHECK(selected(V{"never"}, parse_tag_filter("never", "")));
    CHECK(selected({}, parse_tag_filter("untagged", "")));
    CHECK(!selected(V{"a"}, parse_tag_filter("untagged", "")));
    CHECK(selected(V{"a"}, parse_tag_filter("tagged", "")));
    CHECK(!selected(V{"never"}, parse_tag_filter("all", "")));
}

TEST_CASE("tags: --skip-tags wins, also over always when named") {
    auto f = parse_tag_filter("", "slow");
    CHECK(!selected(V{"slow"}, f));
    CHECK(selected(V{"fast"}, f));
    CHECK(selected(V{"always"}, f));
    CHECK(!selected(V{"always"}, parse_tag_filter("", "always")));
    CHECK(!selected(V{"web", "slow"}, parse_tag_filter("web", "slow")));
    CHECK(!selected(V{"a"}, parse_tag_filter("", "tagged")));
    CHECK(selected({}, parse_tag_filter("", "tagged")));
}

TEST_CASE("tags: filter_tags drops tasks, keeps handlers; tags come from play, role, block and include") {
    auto book = playbook::load_text(R"(- hosts: all
  tags: [site]
  tasks:
    - name: a
      command: /bin/true
      tags: [web]
    - block:
        - name: b
          command: /bin/true
      tags: [db]
    - name: c
      command: /bin/true
      tags: [always]
  handlers:
    - name: h
      command: /bin/true
      tags: [web]
)",
                                    "pb.yml");
    CHECK(book.plays[0].tasks[0].tags == V{"site", "web"});
    CHECK(book.plays[0].tasks[1].tags == V{"site", "db"});
    plan::filter_tags(book, parse_tag_filter("db", ""));
    REQUIRE(book.plays[0].tasks.size() == 2);
    CHECK(book.plays[0].tasks[0].name == "b");
    CHECK(book.plays[0].tasks[1].name == "c");
    CHECK(book.plays[0].handlers.size() == 1);
}
