// Internal to the template engine: an evaluation result, a value or "undefined".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "playbook/template.hpp"

namespace decamp::tmpl::detail {

struct Res {
    Res() = default;
    Res(Value value) : v(std::move(value)) {}  // NOLINT: implicit on purpose
    Value v;
    bool undefined = false;
    std::string missing;  // the name that was undefined
    static Res undef(std::string name) {
        Res r;
        r.undefined = true;
        r.missing = std::move(name);
        return r;
    }
};

Res eval(std::string_view expr, const Scope& scope, const Options& opts);

// Check mode (template.hpp): parses `expr` without values, appending to `out` the root names
// used (except `bound`, the {% for %} variables in force) at `offset`; throws TemplateError.
void check(std::string_view expr, const std::vector<std::string>& bound, size_t offset, bool conditional,
           Check& out);

// The expression a condition evaluates: one level of {{ }} stripped, as Ansible allows.
std::string condition_text(std::string_view expr);

// A string that is exactly one "{{ expr }}" (spaces around allowed): its expression, which
// keeps its native type when rendered.
std::optional<std::string> lone_expression(std::string_view s);

// What one top-level render or evaluation may spend, nested variable expansion included
// (see Budget in template.hpp). The outermost call on a thread owns it; nested calls share.
class Budget {
public:
    void step(size_t n = 1);        // an evaluation step: a node, a name, a filter, a loop item
    void produced(size_t bytes);    // text (or list items) made
    // A variable being expanded (it holds a template): for the depth limit and for naming
    // the offending value when the budget runs out.
    void enter(const std::string& name, const Mark& mark);
    void leave() { expanding_.pop_back(); }

private:
    [[noreturn]] void exceeded(const std::string& what) const;
    size_t steps_ = 0, bytes_ = 0;
    std::vector<std::pair<std::string, Mark>> expanding_;
};

// Installs a fresh Budget for the outermost call on this thread; nested guards share it.
class BudgetGuard {
public:
    BudgetGuard();
    ~BudgetGuard();
    BudgetGuard(const BudgetGuard&) = delete;
    BudgetGuard& operator=(const BudgetGuard&) = delete;
    Budget& budget();

private:
    Budget own_;
    bool owner_ = false;
};

// A value derived from a secret is about to be used as text: its text (and encodings) go
// to the redactor, so every output path masks it.
void note_sensitive(const Value& v);

// Text filters kept out of the parser (expr_support.cpp): basename, dirname, regex_search.
// The result is untainted; the caller adds its input's provenance. nullopt: not one of them.
std::optional<Value> text_filter(std::string_view name, const Value& in, const std::vector<Value>& args);
// A test on a defined value (filters.cpp); nullopt for a name it does not know.
std::optional<bool> value_test(std::string_view test, const Value& v, const std::vector<Value>& args = {});
// Ansible's version test: `a` compared to `b` by `op` (<, lt, ==, eq, ...), as LooseVersion.
// Throws Error for an unknown operator.
bool version_compare(const std::string& a, const std::string& b, const std::string& op);

// Comparisons (filters.cpp): two numbers by value, anything else as text; == between
// scalars of different kinds compares text; `in` on a list, a map's keys or a substring.
int compare(const Value& a, const Value& b);
bool loosely_equal(const Value& a, const Value& b);
bool contains(const Value& hay, const Value& needle);

// A quoted string literal at s[pos] (Python escapes; an unknown one keeps its backslash),
// expr_support.cpp: its text, `pos` moved past the closing quote; nullopt if it is not closed.
std::optional<std::string> string_literal(std::string_view s, size_t& pos);

// Python str methods in expressions (`x.split(':')[0]`), filters.cpp: whether `name` is one,
// and its result on a scalar `in` (Error for a list or map, or bad arguments).
bool is_string_method(std::string_view name);
Value string_method(std::string_view name, const Value& in, const std::vector<Value>& args);

// How a value shows in an error message: *** when derived from a secret.
std::string shown(const Value& v);

// Whether a value (recursively) holds template syntax that would expand; a host's data
// (tainted unsafe) never does.
bool has_template_inside(const Value& v);

}  // namespace decamp::tmpl::detail
