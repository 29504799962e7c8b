// Jinja-shaped templating, the subset Ansible users write every day:
//   {{ expr }} with a.b, a[0], a['k'], filters (default, join, lower, upper, quote, length,
//   trim, int, string, bool, first, last, replace), tests (defined, undefined, none, changed,
//   failed, succeeded, skipped), operators (== != < > <= >= in, not in, and, or, not, +, ~);
//   {% if %}/{% elif %}/{% else %}/{% endif %}, {% for x in xs %}/{% endfor %}, {# … #},
//   with Ansible's trim_blocks and '-' whitespace control.
// Pure: no I/O except resolving secrets when the caller asks for them.
//
// Provenance (Value::Taint) flows through every expression, filter and block: a value a
// host sent (unsafe) is inserted literally and never rendered again, whatever it contains;
// anything derived from a secret (sensitive) stays sensitive and its text is registered
// with the redactor as soon as the engine produces it.
//
// Budget: one render or evaluation (with every variable it expands, recursively) may take
// at most kMaxSteps evaluation steps, produce at most kMaxBytes of text and nest variable
// expansion kMaxDepth deep; past that it fails with a TemplateError naming the variable
// being expanded and where it was written.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "util/value.hpp"

namespace decamp::tmpl {

class TemplateError : public std::runtime_error {
public:
    TemplateError(const std::string& msg, size_t offset = 0)
        : std::runtime_error(msg), offset_(offset) {}
    size_t offset() const { return offset_; }

private:
    size_t offset_;
};

inline constexpr size_t kMaxSteps = 2'000'000;
inline constexpr size_t kMaxBytes = size_t{32} << 20;  // 32 MiB
inline constexpr size_t kMaxDepth = 64;

// A stack of variable maps, searched innermost first.
class Scope {
public:
    Scope() = default;
    void push(const Value* map) { layers_.push_back(map); }
    void pop() { layers_.pop_back(); }
    // Asked for a name no layer has (facts are gathered on first use); may return nullptr.
    void set_fallback(std::function<const Value*(const std::string&)> f) { fallback_ = std::move(f); }
    const Value* lookup(const std::string& name) const;

private:
    std::vector<const Value*> layers_;
    std::function<const Value*(const std::string&)> fallback_;
};

struct Options {
    // Secrets: revealed (resolved, registered with the redactor) or printed as ***.
    bool reveal_secrets = false;
    std::filesystem::path secret_base_dir;
    // Offline planning: an undefined variable leaves the {{ … }} text as it was instead of
    // failing, so the plan shows what is only known on the host.
    bool keep_undefined = false;
};

// True when the text contains template syntax.
bool has_template(std::string_view text);

// Renders a string (task arguments: {{ }} only; template files: blocks too).
std::string render(std::string_view text, const Scope& scope, const Options& opts);
// The same as a string Value that carries the provenance of what went into it.
Value render_text(std::string_view text, const Scope& scope, const Options& opts);

// Renders every string inside a Value. A string that is exactly one "{{ expr }}" keeps the
// expression's native type (so `loop: "{{ packages }}"` gives a list).
Value render_value(const Value& v, const Scope& scope, const Options& opts);

// Evaluates a bare expression (when:, changed_when:); throws on undefined variables unless
// a test or default() handles them.
Value evaluate(std::string_view expr, const Scope& scope, const Options& opts);
bool evaluate_condition(std::string_view expr, const Scope& scope, const Options& opts);

// Like evaluate_condition, but nullopt when the answer depends on something undefined
// (offline plans show such steps as conditional).
std::optional<bool> try_condition(std::string_view expr, const Scope& scope, const Options& opts);

// Static checks, for load time: the evaluator's own parser in "check mode" (no second
// grammar to drift): no variable is looked up, each counts as defined with an unknown value;
// filters and tests are checked by name and argument count against the evaluator's tables,
// never applied; {% if %} and {% for %} blocks are walked once. Nothing is rendered.
struct NameRef {
    std::string name;         // a root variable (not an attribute after '.', not a for variable)
    size_t offset = 0;        // where its {{ }} or {% %} starts in the checked text
    bool conditional = false; // may never be evaluated: right of and/or, default()'s
                              // fallback, inside an {% if %} or {% for %} body, an {% elif %}
};
struct Check {
    std::optional<TemplateError> error;  // the first syntax error, unknown filter or test
    std::vector<NameRef> names;          // every root variable used, in order
    std::vector<std::string> guarded;    // used under `is defined`/`is undefined` or default()
};
// As render_text: {{ }}, {% if/for %} and {# #} (template files, task names).
Check check_text(std::string_view text);
// As render_value checks a string (task arguments, loop, vars values).
Check check_string(std::string_view text);
// As evaluate_condition (when, changed_when, failed_when).
Check check_condition(std::string_view expr);

// The filters and tests expressions may use (the evaluator's own tables).
std::vector<std::string> filter_names();
std::vector<std::string> test_names();

}  // namespace decamp::tmpl
