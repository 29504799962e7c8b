// Provenance through the template engine: what a host sent is inserted literally and never
// rendered again; what is derived from a secret stays sensitive and reaches the redactor;
// expansion has a budget.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>

#include "playbook/template.hpp"
#include "util/secret.hpp"

using namespace decamp;
using tmpl::Options;
using tmpl::Scope;

namespace {

Options revealing() {
    Options o;
    o.reveal_secrets = true;
    return o;
}

// A registered result the way the engine stores one: all of it unsafe.
Value host_result(const std::string& out) {
    Value r = Value::map();
    r.set("rc", Value::integer(0));
    r.set("stdout", Value::string(out));
    r.set("stdout_lines", Value::list({Value::string(out), Value::string("second " + out)}));
    return r.add_taint(Value::kUnsafe);
}

const char* const kHostile[] = {
    "{{ secrets.pw }}",
    "{% if true %}yes{% endif %}",
    "it's a stray ' quote",
    "{# not a comment #} tail",
    "{% for x in [1] %}{{ x }}{% endfor %}",
    "{{ unclosed",
    "{%",
};

}  // namespace

TEST_CASE("a host's output is data: inserted literally through every template path") {
    setenv("DECAMP_TAINT_TEST_PW", "never-sent-back-1", 1);
    for (const char* payload : kHostile) {
        CAPTURE(payload);
        const std::string p = payload;
        Value v = Value::map();
        v.set("out", host_result(p));
        Value facts = Value::map();
        facts.set("hostname", Value::string(p));
        v.set("facts", facts.add_taint(Value::kUnsafe));
        Value secrets = Value::map();
        secrets.set("pw", Value::secret("${env:DECAMP_TAINT_TEST_PW}"));
        v.set("secrets", secrets);
        // What set_fact / vars: would hold after one render: a value built from host data.
        Value vars = Value::map();
        Scope s;
        s.push(&v);
        s.push(&vars);
        const Options o = revealing();
        vars.set("copied", tmpl::render_value(Value::string("x {{ out.stdout }} y"), s, o));
        vars.set("whole", tmpl::render_value(Value::string("{{ out }}"), s, o));
        vars.set("lines", tmpl::render_value(Value::string("{{ out.stdout_lines }}"), s, o));

        CHECK(tmpl::render("{{ out.stdout }}", s, o) == p);
        CHECK(tmpl::render("a {{ out.stdout }} b", s, o) == "a " + p + " b");
        CHECK(tmpl::render("{{ facts.hostname }}", s, o) == p);
        CHECK(tmpl::render("{{ out.stdout | trim | string }}", s, o) == p);
        CHECK(tmpl::render("{{ out.stdout ~ '!' }}", s, o) == p + "!");
        CHECK(tmpl::render("{{ out.stdout_lines | join('|') }}", s, o) == p + "|second " + p);
        CHECK(tmpl::render("{% for l in out.stdout_lines %}[{{ l }}]{% endfor %}", s, o) ==
              "[" + p + "][second " + p + "]");
        // Values that were built from host data stay data when used again.
        CHECK(tmpl::render("{{ copied }}", s, o) == "x " + p + " y");
        CHECK(tmpl::render("{{ whole.stdout }}", s, o) == p);
        CHECK(tmpl::render("{{ lines | first }}", s, o) == p);
        Value args = Value::map();
        args.set("content", Value::string("{{ out.stdout }}"));
        args.set("cmd", Value::string("echo {{ out.stdout | quote }}"));
        Value rendered = tmpl::render_value(args, s, o);
        CHECK(rendered.get("content")->as_string() == p);
        CHECK(rendered.get("content")->is_unsafe());
        CHECK(rendered.get("cmd")->as_string().find("never-sent-back-1") == std::string::npos);
        // A template file that loops over it renders it as text too.
        CHECK(tmpl::render("{% if out.rc == 0 %}{{ out.stdout }}{% endif %}\n", s, o) == p);
    }
    unsetenv("DECAMP_TAINT_TEST_PW");
}

TEST_CASE("values derived from a secret stay sensitive through filters and operators") {
    setenv("DECAMP_TAINT_TEST_PW2", "Sens-itive-Value-77", 1);
    Value v = Value::map();
    Value secrets = Value::map();
    secrets.set("pw", Value::secret("${env:DECAMP_TAINT_TEST_PW2}"));
    v.set("secrets", secrets);
    v.set("plain", Value::string("nothing here"));
    Scope s;
    s.push(&v);
    const Options o = revealing();
    for (const char* e : {"{{ secrets.pw }}", "{{ secrets.pw | upper }}", "{{ 'a' ~ secrets.pw }}",
                          "{{ [secrets.pw, 'x'] | join(',') }}", "{{ secrets.pw | b64encode }}",
                          "{{ secrets.pw | replace('-', '_') | quote }}", "{{ [secrets.pw] | first }}",
                          "{{ not_defined | default(secrets.pw) }}"}) {
        CAPTURE(std::string(e));
        Value out = tmpl::render_value(Value::string(e), s, o);
        CHECK(out.is_sensitive());
        CHECK(redactor().mask("log " + out.to_text() + " end") == "log *** end");
    }
    CHECK_FALSE(tmpl::render_value(Value::string("{{ plain | upper }}"), s, o).is_sensitive());
    // A yes/no answer or a count is not text that could leak.
    CHECK_FALSE(tmpl::render_value(Value::string("{{ secrets.pw | length }}"), s, o).is_sensitive());
    CHECK_FALSE(tmpl::render_value(Value::string("{{ secrets.pw == 'x' }}"), s, o).is_sensitive());
    // Mixed text keeps the mark, so a template file built from it is known to carry a secret.
    CHECK(tmpl::render_text("pw={{ secrets.pw | lower }}\n", s, o).is_sensitive());
    CHECK_FALSE(tmpl::render_text("pw={{ plain }}\n", s, o).is_sensitive());
    unsetenv("DECAMP_TAINT_TEST_PW2");
}

TEST_CASE("template expansion has a budget: bombs are refused, naming the value") {
    SUBCASE("variables that double each other 30 deep") {
        Value v = Value::map();
        v.set("x0", Value::string(std::string(32, 'a')).at(Mark{"vars.yml", 1, 5}));
        for (int i = 1; i <= 30; ++i) {
            std::string prev = "x" + std::to_string(i - 1);
            v.set("x" + std::to_string(i),
                  Value::string("{{ " + prev + " }}{{ " + prev + " }}").at(Mark{"vars.yml", i + 1, 5}));
        }
        Scope s;
        s.push(&v);
        CHECK_THROWS_WITH_AS(tmpl::render("{{ x30 }}", s, {}), doctest::Contains("vars.yml:"), tmpl::TemplateError);
        CHECK_THROWS_WITH_AS(tmpl::render("{{ x30 }}", s, {}), doctest::Contains("MiB"), tmpl::TemplateError);
        CHECK(tmpl::render("{{ x3 }}", s, {}).size() == 32 * 8);  // small ones still work
    }
    SUBCASE("lists that double each other") {
        Value v = Value::map();
        v.set("y0", Value::list({Value::integer(1), Value::integer(2)}));
        for (int i = 1; i <= 40; ++i) {
            std::string prev = "y" + std::to_string(i - 1);
            v.set("y" + std::to_string(i), Value::string("{{ " + prev + " + " + prev + " }}"));
        }
        Scope s;
        s.push(&v);
        CHECK_THROWS_AS(tmpl::render_value(Value::string("{{ y40 }}"), s, {}), tmpl::TemplateError);
    }
    SUBCASE("nested loops over a large list") {
        Value v = Value::map();
        Value l = Value::list();
        for (int i = 0; i < 1000; ++i) l.push(Value::integer(i));
        v.set("l", l);
        Scope s;
        s.push(&v);
        CHECK_THROWS_WITH_AS(
            tmpl::render("{% for a in l %}{% for b in l %}{% for c in l %}x{% endfor %}{% endfor %}{% endfor %}", s, {}),
            doctest::Contains("steps"), tmpl::TemplateError);
    }
    SUBCASE("a variable that refers to itself names where it was written") {
        Value v = Value::map();
        v.set("me", Value::string("a{{ me }}").at(Mark{"group_vars.yml", 7, 9}));
        Scope s;
        s.push(&v);
        CHECK_THROWS_WITH_AS(tmpl::render("{{ me }}", s, {}),
                             doctest::Contains("group_vars.yml:7:9: variable \"me\": refers to itself"),
                             tmpl::TemplateError);
    }
    SUBCASE("the budget is per render: many small renders are fine") {
        Value v = Value::map();
        v.set("a", Value::string(std::string(1 << 20, 'z')));
        Scope s;
        s.push(&v);
        for (int i = 0; i < 64; ++i) CHECK(tmpl::render("{{ a }}", s, {}).size() == (1u << 20));
    }
}
