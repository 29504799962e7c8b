#include <doctest/doctest.h>

#include <cstdlib>

#include "playbook/template.hpp"
#include "util/secret.hpp"

using namespace decamp;
using tmpl::Options;
using tmpl::Scope;

namespace {

Value vars() {
    Value v = Value::map();
    v.set("name", Value::string("World"));
    v.set("n", Value::integer(3));
    v.set("pkgs", Value::list({Value::string("nginx"), Value::string("curl")}));
    Value host = Value::map();
    host.set("address", Value::string("198.18.1.11"));
    host.set("roles", Value::list({Value::string("web")}));
    v.set("host", host);
    Value rh = Value::map();
    Value db = Value::map();
    db.set("address", Value::string("198.18.1.12"));
    rh.set("db", Value::list({db}));
    v.set("role_hosts", rh);
    Value reg = Value::map();
    reg.set("rc", Value::integer(0));
    reg.set("changed", Value::boolean(true));
    reg.set("stdout", Value::string("active"));
    v.set("result", reg);
    Value secrets = Value::map();
    secrets.set("pw", Value::secret("${env:DECAMP_TEST_SECRET}"));
    v.set("secrets", secrets);
    v.set("evil", Value::string("'; rm -rf / #"));
    return v;
}

std::string r(const std::string& t, Options o = {}) {
    static Value v = vars();
    Scope s;
    s.push(&v);
    return tmpl::render(t, s, o);
}

bool cond(const std::string& e) {
    static Value v = vars();
    Scope s;
    s.push(&v);
    return tmpl::evaluate_condition(e, s, {});
}

}  // namespace

TEST_CASE("expressions and filters") {
    CHECK(r("Hello {{ name }}!") == "Hello World!");
    CHECK(r("{{ name | lower }}/{{ name|upper }}") == "world/WORLD");
    CHECK(r("{{ pkgs | join(', ') }}") == "nginx, curl");
    CHECK(r("{{ missing | default('x') }}") == "x");
    CHECK(r("{{ missing | default(n) }}") == "3");
    CHECK(r("{{ role_hosts.db[0].address }}") == "198.18.1.12");
    CHECK(r("{{ role_hosts['db'][0]['address'] }}") == "198.18.1.12");
    CHECK(r("{{ pkgs | length }} {{ n + 1 }} {{ pkgs[-1] }}") == "2 4 curl");
    CHECK(r("{{ evil | quote }}") == "''\\''; rm -rf / #'");
    CHECK(r("{{ '  x ' | trim }}") == "x");
    CHECK(r("{{ name ~ '-' ~ n }}") == "World-3");
    CHECK(r("no template") == "no template");
}

TEST_CASE("conditions") {
    CHECK(cond("n == 3"));
    CHECK(cond("n > 2 and name == 'World'"));
    CHECK(cond("not (n < 2)"));
    CHECK(cond("'web' in host.roles"));
    CHECK(cond("'db' not in host.roles"));
    CHECK(cond("missing is not defined"));
    CHECK(cond("missing is undefined or false"));
    CHECK(cond("result is changed"));
    CHECK(cond("result.rc == 0 and result.stdout == 'active'"));
    CHECK(cond("{{ n == 3 }}"));
    CHECK_FALSE(cond("result is failed"));
    CHECK_THROWS_AS(cond("missing == 1"), tmpl::TemplateError);
    CHECK_THROWS_AS(cond("n ==="), tmpl::TemplateError);
}

TEST_CASE("undefined variables fail loudly, or stay as text offline") {
    CHECK_THROWS_WITH_AS(r("{{ nope }}"), doctest::Contains("\"nope\" is undefined"), tmpl::TemplateError);
    Options offline;
    offline.keep_undefined = true;
    CHECK(r("a {{ facts.os }} b", offline) == "a {{ facts.os }} b");
}

TEST_CASE("blocks: if/elif/else, for, comments, trim_blocks") {
    CHECK(r("{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}") == "mid");
    CHECK(r("{% for p in pkgs %}{{ loop.index }}:{{ p }} {% endfor %}") == "1:nginx 2:curl ");
    CHECK(r("a{# note #}b") == "ab");
    CHECK(r("{% if 'web' in host.roles %}\nport 80\n{% endif %}\nend") == "port 80\nend");
    CHECK(r("x   {%- if true -%}   y  {%- endif %}") == "xy");
    CHECK_THROWS_AS(r("{% if n %}open"), tmpl::TemplateError);
    CHECK_THROWS_AS(r("{% while x %}{% endwhile %}"), tmpl::TemplateError);
    CHECK_THROWS_AS(r("{{ unclosed"), tmpl::TemplateError);
}

TEST_CASE("render_value keeps native types for a lone expression") {
    Value v = vars();
    Scope s;
    s.push(&v);
    Value out = tmpl::render_value(Value::string("{{ pkgs }}"), s, {});
    REQUIRE(out.is_list());
    CHECK(out.items().size() == 2);
    CHECK(tmpl::render_value(Value::string("{{ n }}"), s, {}).kind() == Value::Kind::Int);
}

TEST_CASE("secrets are masked unless revealed, and revealed ones are redacted") {
    setenv("DECAMP_TEST_SECRET", "s3cr3t-value-42", 1);
    CHECK(r("pw={{ secrets.pw }}") == "pw=***");
    Options reveal;
    reveal.reveal_secrets = true;
    CHECK(r("pw={{ secrets.pw }}", reveal) == "pw=s3cr3t-value-42");
    CHECK(redactor().mask("log: s3cr3t-value-42 done") == "log: *** done");
    unsetenv("DECAMP_TEST_SECRET");
    Value v = Value::map();
    Value secrets = Value::map();
    secrets.set("gone", Value::secret("${env:DECAMP_NOT_SET_ANYWHERE}"));
    v.set("secrets", secrets);
    Scope s;
    s.push(&v);
    CHECK_THROWS_WITH_AS(tmpl::render("{{ secrets.gone }}", s, reveal), doctest::Contains("${env:DECAMP_NOT_SET_ANYWHERE}"), Error);
    // Offline (not revealed), a missing secret is not an error: it is not needed.
    CHECK(tmpl::render("{{ secrets.gone }}", s, {}) == "***");
}

TEST_CASE("variables are templated when used, and self-reference is an error") {
    Value v = Value::map();
    v.set("name", Value::string("web1"));
    v.set("dir", Value::string("/srv/{{ name }}"));
    v.set("files", Value::list({Value::string("{{ dir }}/a"), Value::string("{{ dir }}/b")}));
    v.set("loop1", Value::string("{{ loop2 }}"));
    v.set("loop2", Value::string("{{ loop1 }}"));
    Scope s;
    s.push(&v);
    CHECK(tmpl::render("{{ dir }}/x", s, {}) == "/srv/web1/x");
    CHECK(tmpl::render("{{ files | join(',') }}", s, {}) == "/srv/web1/a,/srv/web1/b");
    CHECK_THROWS_AS(tmpl::render("{{ loop1 }}", s, {}), tmpl::TemplateError);
}

namespace {

std::string error_of(const tmpl::Check& c) { return c.error ? c.error->what() : ""; }

std::vector<std::string> names_of(const tmpl::Check& c, bool with_conditional = true) {
    std::vector<std::string> out;
    for (const auto& n : c.names)
        if (with_conditional || !n.conditional) out.push_back(n.name);
    return out;
}

}  // namespace

TEST_CASE("static check: unknown filters and tests, wrong arity and syntax, without values") {
    // No variable is defined here: the check never needs one to find these.
    CHECK(error_of(tmpl::check_string("{{ foo | nosuchfilter }}")).find("unknown filter \"nosuchfilter\"") != std::string::npos);
    CHECK(error_of(tmpl::check_string("a {{ foo | lower | nope(1) }} b")).find("unknown filter \"nope\"") != std::string::npos);
    CHECK(error_of(tmpl::check_condition("foo is nosuchtest")).find("unknown test \"nosuchtest\"") != std::string::npos);
    CHECK(error_of(tmpl::check_condition("{{ foo | bogus }}")).find("unknown filter \"bogus\"") != std::string::npos);
    CHECK(error_of(tmpl::check_string("{{ foo | replace('a') }}")).find("needs 2 argument(s)") != std::string::npos);
    CHECK(error_of(tmpl::check_string("{{ foo + }}")).find("unexpected end") != std::string::npos);
    CHECK(error_of(tmpl::check_string("{{ foo ")).find("unclosed {{") != std::string::npos);
    CHECK(error_of(tmpl::check_string("{{ 99999999999999999999999 }}")).find("too large") != std::string::npos);
    // A template file: the error is placed at the {{ that holds it, inside a block.
    std::string text = "line1\n{% if a %}\n  x {{ b | nope }}\n{% endif %}\n";
    auto c = tmpl::check_text(text);
    REQUIRE(c.error);
    CHECK(c.error->offset() == text.find("{{"));
    CHECK(error_of(tmpl::check_text("{% for x in xs %}")).find("without {% endfor %}") != std::string::npos);
    // Valid text: no error, whatever the (absent) values.
    for (const char* ok : {"plain", "{{ a.b[0]['c'] | default('x') | upper }}", "{{ n - 1 }}", "{{ [a, b] | join(',') }}",
                           "{{ x[missing].y }}", "{{ a or b or c }}", "{% for k in m %}{{ loop.index }}{% endfor %}"})
        CHECK_MESSAGE(!tmpl::check_string(ok).error, ok);
}

TEST_CASE("static check: root names, for variables, guards and what runs only sometimes") {
    auto c = tmpl::check_text("{{ a.b }} {{ c['d'] }} {{ true }} {{ e | join(sep) }}"
                              "{% for x in xs %}{{ x }} {{ loop.index }} {{ y }}{% endfor %}");
    CHECK(names_of(c) == std::vector<std::string>{"a", "c", "e", "sep", "xs", "y"});
    CHECK(names_of(c, false) == std::vector<std::string>{"a", "c", "e", "sep", "xs"});  // y: only if xs has items
    auto g = tmpl::check_condition("p is defined and q.r is not defined or (s | default(t))");
    CHECK(g.guarded == std::vector<std::string>{"p", "q", "s"});
    CHECK(names_of(g, false) == std::vector<std::string>{"p"});  // right of and/or may never run
    auto d = tmpl::check_string("{{ u | default(v) }}");
    CHECK(d.guarded == std::vector<std::string>{"u"});
    CHECK(names_of(d, false) == std::vector<std::string>{"u"});  // v is used only when u is undefined
    auto i = tmpl::check_text("{% if w %}{{ z }}{% elif k %}{% else %}{% endif %}");
    CHECK(names_of(i, false) == std::vector<std::string>{"w"});
    CHECK(names_of(i) == std::vector<std::string>{"w", "z", "k"});
    CHECK(tmpl::check_string("no template {# here #}").names.empty());  // not rendered: a literal
}

TEST_CASE("every filter and test the check accepts, the evaluator implements") {
    Value v = Value::map();
    v.set("xs", Value::list({Value::string("a")}));
    Scope s;
    s.push(&v);
    for (const auto& f : tmpl::filter_names()) {
        try {
            (void)tmpl::evaluate("xs | " + f + "('b', 'c')", s, {});
        } catch (const tmpl::TemplateError& e) {
            CHECK_MESSAGE(std::string(e.what()).find("not implemented") == std::string::npos, f);
        }
    }
    for (const auto& t : tmpl::test_names()) {
        const bool one = t.rfind("version", 0) == 0 || t == "match" || t == "search" || t == "regex";
        const std::string args = one ? "('1')" : "";
        CHECK_NOTHROW((void)tmpl::evaluate("xs is " + t + args, s, {}));
    }
}

TEST_CASE("an unknown filter fails even on an undefined value, and undefined values never change the syntax") {
    Options offline;
    offline.keep_undefined = true;
    CHECK_THROWS_WITH_AS(r("{{ missing | nosuch }}", offline), doctest::Contains("unknown filter"), tmpl::TemplateError);
    CHECK_THROWS_WITH_AS(r("{{ missing | replace('a') }}", offline), doctest::Contains("needs 2"), tmpl::TemplateError);
    // These used to stop parsing at the undefined part and report a syntax error instead.
    CHECK(r("{{ missing or n or 1 }}", offline) == "{{ missing or n or 1 }}");
    CHECK(r("{{ [missing, 1] | length }}", offline) == "{{ [missing, 1] | length }}");
    CHECK(r("{{ pkgs[missing].x }}", offline) == "{{ pkgs[missing].x }}");
    CHECK_THROWS_WITH_AS(r("{{ missing or n or 1 }}"), doctest::Contains("\"missing\" is undefined"), tmpl::TemplateError);
}

TEST_CASE("template: basename, dirname, regex_search, list; is true / is false") {
    Value vars = Value::map();
    vars.set("p", Value::string("/etc/ntp/ntp.conf"));
    vars.set("v", Value::string("docker-compose version 2.24.1, build x"));
    vars.set("yes_", Value::boolean(true));
    vars.set("one", Value::integer(1));
    tmpl::Scope s;
    s.push(&vars);
    tmpl::Options o;
    CHECK(tmpl::render("{{ p | basename }} {{ p | dirname }} {{ 'x' | dirname }}", s, o) ==
          "ntp.conf /etc/ntp ");
    CHECK(tmpl::render("{{ v | regex_search('(\\d+(\\.\\d+)+)') }}", s, o) == "2.24.1");
    CHECK(tmpl::render("{{ 'ab' | list | length }}", s, o) == "2");
    CHECK(tmpl::evaluate_condition("yes_ is true", s, o));
    CHECK(!tmpl::evaluate_condition("one is true", s, o));  // truthy is not true
    CHECK(tmpl::evaluate_condition("one is not false", s, o));
    CHECK_THROWS_AS(tmpl::render("{{ v | regex_search('(') }}", s, o), tmpl::TemplateError);
}

TEST_CASE("template: the version test and version_compare, as LooseVersion") {
    Value vars = Value::map();
    vars.set("v", Value::string("2.10.1"));
    vars.set("op", Value::string("ge"));
    tmpl::Scope s;
    s.push(&vars);
    tmpl::Options o;
    auto c = [&](const std::string& e) { return tmpl::evaluate_condition(e, s, o); };
    CHECK(c("v is version('2.9', '>=')"));  // by number, not as text
    CHECK(!c("v is version('2.9', '<')"));
    CHECK(c("v is version('2.10.1', 'eq') and v is version('2.10.1', '=') and v is version('2.10.1')"));
    CHECK(c("v is version('2.10', 'gt') and v is not version('2.10', 'le')"));
    CHECK(c("v is version('2.10.1', op) and not (v is version('2.10.1', '<>'))"));
    CHECK(c("'1.0' is version('1.0a', 'lt') and '1.10' is version('1.9', 'ne')"));
    CHECK(c("'1.2.3' is version_compare('1.2', '>', strict=true)") == true);
    CHECK(c("v | version_compare('3', 'lt')"));
    CHECK_THROWS_WITH_AS(c("v is version('1', 'bad')"), doctest::Contains("unknown version operator"),
                         tmpl::TemplateError);
    CHECK(tmpl::check_condition("x is version").error.has_value());  // needs its argument
    CHECK(!tmpl::check_condition("x is version('1.2', '>=')").error.has_value());
}

TEST_CASE("template: Python str methods in expressions") {
    Value vars = Value::map();
    vars.set("img", Value::string("nginx:1.25"));
    vars.set("pad", Value::string("  Hello World \n"));
    vars.set("secrets", Value::map());
    tmpl::Scope s;
    s.push(&vars);
    tmpl::Options o;
    auto r = [&](const std::string& t) { return tmpl::render(t, s, o); };
    CHECK(r("{{ img.split(':')[0] }} {{ img.split(':')[-1] }} {{ img.split(':') | length }}") ==
          "nginx 1.25 2");
    CHECK(r("{{ pad.split() | join(',') }} {{ 'a,b,c'.split(',', 1) | last }} {{ 'a b  c '.split(None, 1) | "
            "last }}.") == "Hello,World b,c b  c .");
    CHECK(r("[{{ pad.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ pad.rstrip() }}] [{{ 'xa'.lstrip('x') }}]") ==
          "[Hello World] [a] [  Hello World] [a]");
    CHECK(r("{{ pad.strip().lower() }} {{ img.upper() }}") == "hello world NGINX:1.25");
    CHECK(r("{{ img.replace('1.25', '1.27') }} {{ 'aaa'.replace('a', 'b', 2) }}") == "nginx:1.27 bba");
    CHECK(r("{{ img.find(':') }} {{ img.find('@') }} {{ img.rfind('.') }}") == "5 -1 7");
    CHECK(tmpl::evaluate_condition(
        "img.startswith('ngi') and img.endswith('.25') and not img.startswith('x')", s, o));
    CHECK(tmpl::evaluate_condition("img.startswith(['x', 'n'])", s, o));
    CHECK(tmpl::evaluate_condition("'12'.isdigit() and not 'a1'.isdigit()", s, o));
    CHECK_THROWS_WITH_AS(r("{{ img.nosuch() }}"), doctest::Contains("unknown method"), tmpl::TemplateError);
    // Check mode parses method calls and sees the names in their arguments.
    auto c = tmpl::check_condition("x.split(sep)[0] == 'a' and y.startswith('b')");
    CHECK(!c.error.has_value());
    CHECK(tmpl::check_condition("x.nosuch()").error.has_value());
}

TEST_CASE("template: a secret's pieces stay secret through str methods") {
    setenv("DECAMP_TEST_SECRET", "user:hunter2", 1);
    Options o;
    o.reveal_secrets = true;
    Value v = Value::map();
    Value secrets = Value::map();
    secrets.set("pw", Value::secret("${env:DECAMP_TEST_SECRET}"));
    v.set("secrets", secrets);
    Scope s;
    s.push(&v);
    Value part = tmpl::evaluate("secrets.pw.split(':')[1]", s, o);
    CHECK(part.as_string() == "hunter2");
    CHECK(part.is_sensitive());
    CHECK(tmpl::evaluate("'a:b'.split(':')[0]", s, o).is_sensitive() == false);
    unsetenv("DECAMP_TEST_SECRET");
}

TEST_CASE("template: regex_replace with Python re.sub semantics") {
    Value vars = Value::map();
    vars.set("host", Value::string("web-01.example.org"));
    tmpl::Scope s;
    s.push(&vars);
    tmpl::Options o;
    auto r = [&](const std::string& t) { return tmpl::render(t, s, o); };
    CHECK(r("{{ host | regex_replace('\\.example\\.org$', '') }}") == "web-01");
    CHECK(r("{{ host | regex_replace('^(\\w+)-(\\d+)', '\\2-\\1') }}") == "01-web.example.org");
    CHECK(r("{{ host | regex_replace('^(?P<n>\\w+)-', '\\g<1>_') }}") == "web_01.example.org");
    CHECK(r("{{ 'a.b.c' | regex_replace('\\.', '/') }}") == "a/b/c");   // every match
    CHECK(r("{{ 'abxd' | regex_replace('x*', '-') }}") == "-a-b--d-");  // empty matches, as Python 3.7+
    CHECK(r("{{ 'ab' | regex_replace('(x)?b', '[\\1]') }}") == "a[]");  // a group that did not take part
    CHECK(r("{{ 'ABC' | regex_replace('b', 'x', ignorecase=true) }}") == "AxC");
    CHECK(r("{{ 'foo bar' | regex_replace('(?<=o) ', '_') }}") == "foo_bar");
    CHECK_THROWS_AS(r("{{ host | regex_replace('(', '') }}"), tmpl::TemplateError);
    CHECK_THROWS_WITH_AS(r("{{ host | regex_replace('w', '\\3') }}"), doctest::Contains("no group 3"),
                         tmpl::TemplateError);
}

TEST_CASE("template: to_json, to_nice_json; match and search tests; dict methods") {
    Value vars = Value::map();
    Value m = Value::map();
    m.set("b", Value::list({Value::integer(1), Value::string("x\"y")}));
    m.set("a", Value::map());
    m.set("c", Value::boolean(true));
    vars.set("m", m);
    vars.set("dir", Value::string("/var/log/pg"));
    tmpl::Scope s;
    s.push(&vars);
    tmpl::Options o;
    auto r = [&](const std::string& t) { return tmpl::render(t, s, o); };
    auto c = [&](const std::string& e) { return tmpl::evaluate_condition(e, s, o); };
    CHECK(r("{{ m | to_json }}") == R"({"b": [1, "x\"y"], "a": {}, "c": true})");
    CHECK(r("{{ m | to_nice_json }}") ==
          "{\n    \"a\": {},\n    \"b\": [\n        1,\n        \"x\\\"y\"\n    ],\n"
          "    \"c\": true\n}");
    CHECK(r("{{ [] | to_nice_json(2) }}") == "[]");
    CHECK(c("dir is match('/')"));
    CHECK_FALSE(c("dir is match('log')"));  // anchored at the start, as re.match
    CHECK(c("dir is search('log')"));
    CHECK(c("dir is not match('var')"));
    CHECK(c("dir is match('/VAR', true)"));
    CHECK(c("m.keys() | length == 3"));
    CHECK(r("{{ m.keys() | join(',') }}") == "b,a,c");
    CHECK(r("{{ m.get('c') }}/{{ m.get('z', 'none') }}") == "true/none");
    CHECK(r("{{ m.items() | first | first }}") == "b");
    CHECK_THROWS_WITH_AS(r("{{ dir.keys() }}"), doctest::Contains("needs a mapping"), tmpl::TemplateError);
}

TEST_CASE("template: dict2items and items2dict, with key_name and value_name") {
    Value vars = Value::map();
    Value m = Value::map();
    m.set("a", Value::integer(1));
    m.set("b", Value::string("x"));
    vars.set("m", m);
    tmpl::Scope s;
    s.push(&vars);
    tmpl::Options o;
    auto r = [&](const std::string& t) { return tmpl::render(t, s, o); };
    CHECK(r("{{ m | dict2items | to_json }}") == R"([{"key": "a", "value": 1}, {"key": "b", "value": "x"}])");
    CHECK(r("{{ (m | dict2items(key_name='o', value_name='v') | items2dict(key_name='o', value_name='v')).b "
            "}}") == "x");
    CHECK_THROWS_WITH_AS(r("{{ 'a' | dict2items }}"), doctest::Contains("needs a mapping"),
                         tmpl::TemplateError);
    CHECK_THROWS_WITH_AS(r("{{ [1] | items2dict }}"), doctest::Contains("each item needs key and value"),
                         tmpl::TemplateError);
}

TEST_CASE("template: item.0 indexes a list, as Jinja's getattr falls back to getitem") {
    Value vars = Value::map();
    vars.set("item", Value::list({Value::string("a"), Value::list({Value::integer(7)})}));
    tmpl::Scope s;
    s.push(&vars);
    tmpl::Options o;
    CHECK(tmpl::render("{{ item.0 }}-{{ item.1.0 }}", s, o) == "a-7");
    CHECK(tmpl::render("{{ item.5 | default('none') }}", s, o) == "none");
    CHECK_THROWS_AS(tmpl::render("{{ item.99999999999999999999 }}", s, o), tmpl::TemplateError);
    CHECK_FALSE(tmpl::check_text("{{ item.0 }}").error.has_value());
}
