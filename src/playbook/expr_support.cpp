// What the evaluator (expr.cpp) and the renderer (template.cpp) share: scope lookup, the
// expansion budget, and the taint helpers (sensitive values noted for masking, host data
// never treated as a template).
#include "playbook/expr_detail.hpp"
#include "playbook/template.hpp"
#include "util/secret.hpp"

namespace decamp::tmpl {

const Value* Scope::lookup(const std::string& name) const {
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it)
        if (*it)
            if (const Value* v = (*it)->get(name)) return v;
    return fallback_ ? fallback_(name) : nullptr;
}

bool has_template(std::string_view text) {
    return text.find("{{") != std::string_view::npos || text.find("{%") != std::string_view::npos;
}

namespace detail {

namespace {
thread_local Budget* current_budget = nullptr;
}

BudgetGuard::BudgetGuard() {
    if (!current_budget) {
        current_budget = &own_;
        owner_ = true;
    }
}

BudgetGuard::~BudgetGuard() {
    if (owner_) current_budget = nullptr;
}

Budget& BudgetGuard::budget() {
    return *current_budget;
}

void Budget::exceeded(const std::string& what) const {
    std::string where;
    // The innermost variable being expanded that says where it was written.
    for (auto it = expanding_.rbegin(); it != expanding_.rend(); ++it) {
        if (it->second.line > 0) {
            where = it->second.str() + ": variable \"" + it->first + "\": ";
            break;
        }
    }
    if (where.empty() && !expanding_.empty()) where = "variable \"" + expanding_.back().first + "\": ";
    throw TemplateError(where + what);
}

void Budget::step(size_t n) {
    steps_ += n;
    if (steps_ > kMaxSteps)
        exceeded("template expansion takes more than " + std::to_string(kMaxSteps) +
                 " steps (a loop over too many items, or variables that expand each other)");
}

void Budget::produced(size_t bytes) {
    bytes_ += bytes;
    if (bytes_ > kMaxBytes)
        exceeded("template expansion produces more than " + std::to_string(kMaxBytes >> 20) +
                 " MiB (variables that expand each other, or a loop over too many items)");
}

void Budget::enter(const std::string& name, const Mark& mark) {
    // The scope does not change while a variable expands, so meeting the same name again
    // inside its own expansion can only recurse forever.
    bool again = false;
    for (const auto& e : expanding_) again = again || e.first == name;
    expanding_.emplace_back(name, mark);
    if (again) exceeded("refers to itself");
    if (expanding_.size() > kMaxDepth)
        exceeded("variables nest more than " + std::to_string(kMaxDepth) + " deep");
}

void note_sensitive(const Value& v) {
    if (!v.is_sensitive()) return;
    switch (v.kind()) {
        case Value::Kind::String:
        case Value::Kind::Int:
            if (v.own_taint() & Value::kSensitive) redactor().add(v.to_text());
            break;
        case Value::Kind::List:
            for (const auto& i : v.items()) note_sensitive(i);
            break;
        case Value::Kind::Map:
            for (const auto& [k, i] : v.entries()) note_sensitive(i);
            break;
        default:
            break;
    }
}

std::string shown(const Value& v) {
    return v.is_sensitive() ? "***" : v.to_text();
}

bool has_template_inside(const Value& v) {
    if (v.own_taint() & Value::kUnsafe) return false;  // a host's data is never a template
    switch (v.kind()) {
        case Value::Kind::String:
            return has_template(v.as_string());
        case Value::Kind::List:
            for (const auto& i : v.items())
                if (has_template_inside(i)) return true;
            return false;
        case Value::Kind::Map:
            for (const auto& [k, i] : v.entries())
                if (has_template_inside(i)) return true;
            return false;
        default:
            return false;
    }
}

std::optional<std::string> string_literal(std::string_view s, size_t& pos) {
    const char quote = s[pos];
    size_t i = pos + 1;
    std::string out;
    for (; i < s.size() && s[i] != quote; ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        // Python's rules: an unknown escape keeps its backslash ('\d' in a regex).
        const char e = s[++i];
        if (e == 'n')
            out += '\n';
        else if (e == 't')
            out += '\t';
        else if (e == 'r')
            out += '\r';
        else if (e == '\\' || e == '\'' || e == '"')
            out += e;
        else
            out += std::string("\\") + e;
    }
    if (i >= s.size()) return std::nullopt;
    pos = i + 1;
    return out;
}

}  // namespace detail

}  // namespace decamp::tmpl
