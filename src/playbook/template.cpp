// Template text rendering: splits text into literal, {{ expression }} and {% block %} parts
// and renders them; expressions are evaluated by expr.cpp.
#include <memory>

#include "playbook/expr_detail.hpp"
#include "playbook/template.hpp"
#include "util/secret.hpp"

namespace decamp::tmpl {

namespace {

struct Node {
    enum Kind { Text, Expr, If, For } kind = Text;
    std::string text;  // literal text, expression, or for-loop iterable expression
    size_t offset = 0;
    // If: branches of (condition, body); an empty condition is `else`.
    std::vector<std::pair<std::string, std::vector<Node>>> branches;
    std::string var;  // For: loop variable
    std::vector<Node> body;
};

class Builder {
public:
    explicit Builder(std::string_view src) : s_(src) {}

    std::vector<Node> parse() {
        std::vector<Node> out;
        std::string end = parse_into(out, {});
        if (!end.empty()) throw TemplateError("unexpected {% " + end + " %}", pos_);
        return out;
    }

private:
    static std::string trim(std::string_view v) {
        size_t a = v.find_first_not_of(" \t\r\n");
        if (a == std::string_view::npos) return "";
        size_t b = v.find_last_not_of(" \t\r\n");
        return std::string(v.substr(a, b - a + 1));
    }
    static std::string first_word(const std::string& t) { return t.substr(0, t.find_first_of(" \t")); }

    // Parses until one of `stops` tags; returns the stop tag's full text ("" at end of input).
    std::string parse_into(std::vector<Node>& out, const std::vector<std::string>& stops) {
        while (pos_ < s_.size()) {
            size_t open = s_.find('{', pos_);
            while (open != std::string_view::npos && open + 1 < s_.size() && s_[open + 1] != '{' &&
                   s_[open + 1] != '%' && s_[open + 1] != '#')
                open = s_.find('{', open + 1);
            if (open == std::string_view::npos || open + 1 >= s_.size()) {
                add_text(out, s_.substr(pos_));
                pos_ = s_.size();
                break;
            }
            char kind = s_[open + 1];
            bool lstrip = open + 2 < s_.size() && s_[open + 2] == '-';
            std::string_view lit = s_.substr(pos_, open - pos_);
            if (lstrip) {
                size_t e = lit.find_last_not_of(" \t\r\n");
                lit = e == std::string_view::npos ? std::string_view() : lit.substr(0, e + 1);
            }
            add_text(out, lit);
            const char* closer = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            size_t close = s_.find(closer, open + 2);
            if (close == std::string_view::npos)
                throw TemplateError(std::string("unclosed ") + (kind == '{' ? "{{" : kind == '%' ? "{%" : "{#"), open);
            size_t inner_start = open + 2 + (lstrip ? 1 : 0);
            bool rstrip = close > inner_start && s_[close - 1] == '-';
            std::string inner = trim(s_.substr(inner_start, close - inner_start - (rstrip ? 1 : 0)));
            pos_ = close + 2;
            if (rstrip) {
                while (pos_ < s_.size() && isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
            } else if (kind != '{' && pos_ < s_.size() && s_[pos_] == '\n') {
                ++pos_;  // trim_blocks, as Ansible's template module sets it
            }
            if (kind == '#') continue;
            if (kind == '{') {
                if (inner.empty()) throw TemplateError("empty {{ }}", open);
                Node n;
                n.kind = Node::Expr;
                n.text = inner;
                n.offset = open;
                out.push_back(std::move(n));
                continue;
            }
            std::string word = first_word(inner);
            for (const auto& st : stops)
                if (word == st) return inner;
            if (word == "if") {
                Node n;
                n.kind = Node::If;
                n.offset = open;
                std::string cond = trim(inner.substr(2));
                while (true) {
                    std::vector<Node> body;
                    std::string end = parse_into(body, {"elif", "else", "endif"});
                    n.branches.emplace_back(cond, std::move(body));
                    std::string w = first_word(end);
                    if (w == "endif") break;
                    if (w == "elif") cond = trim(end.substr(4));
                    else if (w == "else") {
                        std::vector<Node> els;
                        std::string e2 = parse_into(els, {"endif"});
                        if (first_word(e2) != "endif") throw TemplateError("{% if %} without {% endif %}", open);
                        n.branches.emplace_back("", std::move(els));
                        break;
                    } else {
                        throw TemplateError("{% if %} without {% endif %}", open);
                    }
                    if (cond.empty()) throw TemplateError("{% elif %} needs a condition", open);
                }
                out.push_back(std::move(n));
            } else if (word == "for") {
                Node n;
                n.kind = Node::For;
                n.offset = open;
                std::string rest = trim(inner.substr(3));
                size_t in = rest.find(" in ");
                if (in == std::string::npos) throw TemplateError("expected {% for x in list %}", open);
                n.var = trim(rest.substr(0, in));
                n.text = trim(rest.substr(in + 4));
                std::string end = parse_into(n.body, {"endfor"});
                if (first_word(end) != "endfor") throw TemplateError("{% for %} without {% endfor %}", open);
                out.push_back(std::move(n));
            } else {
                throw TemplateError("unsupported block {% " + word + " %}; expected if, elif, else, endif, for, endfor", open);
            }
        }
        return "";
    }

    static void add_text(std::vector<Node>& out, std::string_view t) {
        if (t.empty()) return;
        Node n;
        n.text = std::string(t);
        out.push_back(std::move(n));
    }

    std::string_view s_;
    size_t pos_ = 0;
};

// Renders into `out`; `taint` collects the provenance of every value inserted.
void render_nodes(const std::vector<Node>& nodes, Scope& scope, const Options& opts, std::string& out,
                  uint8_t& taint, detail::Budget& budget) {
    for (const auto& n : nodes) {
        budget.step();
        switch (n.kind) {
            case Node::Text:
                budget.produced(n.text.size());
                out += n.text;
                break;
            case Node::Expr: {
                auto r = detail::eval(n.text, scope, opts);
                if (r.undefined) {
                    if (opts.keep_undefined) {
                        out += "{{ " + n.text + " }}";
                        break;
                    }
                    throw TemplateError("\"" + r.missing + "\" is undefined (in \"{{ " + n.text + " }}\")", n.offset);
                }
                taint |= r.v.taint();
                detail::note_sensitive(r.v);
                std::string text = r.v.to_text();
                budget.produced(text.size());
                out += text;
                break;
            }
            case Node::If: {
                for (const auto& [cond, body] : n.branches) {
                    bool take = cond.empty();
                    if (!take) {
                        auto r = detail::eval(cond, scope, opts);
                        if (r.undefined) throw TemplateError("\"" + r.missing + "\" is undefined (in {% if " + cond + " %})", n.offset);
                        take = r.v.truthy();
                    }
                    if (take) {
                        render_nodes(body, scope, opts, out, taint, budget);
                        break;
                    }
                }
                break;
            }
            case Node::For: {
                auto r = detail::eval(n.text, scope, opts);
                if (r.undefined) throw TemplateError("\"" + r.missing + "\" is undefined (in {% for %})", n.offset);
                std::vector<Value> items;
                if (r.v.is_list()) items = r.v.items();
                else if (r.v.is_map())
                    for (const auto& [k, v] : r.v.entries()) items.push_back(Value::string(k));
                else if (!r.v.is_null())
                    throw TemplateError("{% for %} over " + detail::shown(r.v) + ": expected a list", n.offset);
                Value layer = Value::map();
                scope.push(&layer);
                int64_t i = 0;
                for (const auto& item : items) {
                    layer.set(n.var, item);
                    Value loop = Value::map();
                    loop.set("index", Value::integer(i + 1));
                    loop.set("index0", Value::integer(i));
                    loop.set("first", Value::boolean(i == 0));
                    loop.set("last", Value::boolean(i + 1 == static_cast<int64_t>(items.size())));
                    layer.set("loop", loop);
                    render_nodes(n.body, scope, opts, out, taint, budget);
                    ++i;
                }
                scope.pop();
                break;
            }
        }
    }
}

// Check mode over blocks: each expression once, bodies as "maybe", for variables bound.
void check_nodes(const std::vector<Node>& nodes, std::vector<std::string>& bound, bool conditional, Check& out) {
    auto expr = [&](const std::string& text, size_t offset, bool cond) {
        try {
            detail::check(text, bound, offset, cond, out);
        } catch (const TemplateError& e) {
            throw TemplateError(e.what(), offset);  // where its {{ or {% starts in the text
        }
    };
    for (const auto& n : nodes) {
        switch (n.kind) {
            case Node::Text: break;
            case Node::Expr: expr(n.text, n.offset, conditional); break;
            case Node::If: {
                bool first = true;
                for (const auto& [cond, body] : n.branches) {
                    if (!cond.empty()) expr(cond, n.offset, conditional || !first);
                    check_nodes(body, bound, true, out);
                    first = false;
                }
                break;
            }
            case Node::For:
                expr(n.text, n.offset, conditional);
                bound.push_back(n.var);
                bound.push_back("loop");
                check_nodes(n.body, bound, true, out);
                bound.resize(bound.size() - 2);
                break;
        }
    }
}

}  // namespace

namespace detail {

std::optional<std::string> lone_expression(std::string_view s) {
    size_t a = s.find_first_not_of(" \t");
    size_t b = s.find_last_not_of(" \t");
    if (a == std::string_view::npos || b < a + 3) return std::nullopt;
    if (s.compare(a, 2, "{{") == 0 && s.compare(b - 1, 2, "}}") == 0 && s.find("{{", a + 2) == std::string_view::npos &&
        s.find("{%") == std::string_view::npos)
        return std::string(s.substr(a + 2, b - 1 - (a + 2)));
    return std::nullopt;
}

}  // namespace detail

Check check_text(std::string_view text) {
    Check out;
    if (!has_template(text) && text.find("{#") == std::string_view::npos) return out;
    try {
        detail::BudgetGuard guard;
        auto nodes = Builder(text).parse();
        std::vector<std::string> bound;
        check_nodes(nodes, bound, false, out);
    } catch (const TemplateError& e) {
        out.error = e;
    }
    return out;
}

Check check_string(std::string_view text) {
    if (!has_template(text)) return {};
    auto expr = detail::lone_expression(text);
    if (!expr) return check_text(text);
    Check out;
    try {
        detail::check(*expr, {}, 0, false, out);
    } catch (const TemplateError& e) {
        out.error = TemplateError(e.what(), 0);
    }
    return out;
}

Value render_text(std::string_view text, const Scope& scope, const Options& opts) {
    if (!has_template(text) && text.find("{#") == std::string_view::npos) return Value::string(std::string(text));
    detail::BudgetGuard guard;
    auto nodes = Builder(text).parse();
    std::string out;
    uint8_t taint = 0;
    Scope s = scope;
    render_nodes(nodes, s, opts, out, taint, guard.budget());
    return Value::string(std::move(out)).add_taint(taint);
}

std::string render(std::string_view text, const Scope& scope, const Options& opts) {
    return render_text(text, scope, opts).as_string();
}

Value render_value(const Value& v, const Scope& scope, const Options& opts) {
    detail::BudgetGuard guard;
    guard.budget().step();
    if (v.own_taint() & Value::kUnsafe) return v;  // a host's data: literally, never rendered
    switch (v.kind()) {
        case Value::Kind::String: {
            const std::string& s = v.as_string();
            if (!has_template(s)) return v;
            if (auto expr = detail::lone_expression(s)) {
                auto r = detail::eval(*expr, scope, opts);
                if (r.undefined) {
                    if (opts.keep_undefined) return v;
                    throw TemplateError("\"" + r.missing + "\" is undefined (in \"" + s + "\")");
                }
                Value out = r.v;
                out.at(v.mark());
                detail::note_sensitive(out);
                return out;
            }
            return render_text(s, scope, opts).at(v.mark());
        }
        case Value::Kind::List: {
            Value out = Value::list();
            for (const auto& i : v.items()) out.push(render_value(i, scope, opts));
            return out.at(v.mark());
        }
        case Value::Kind::Map: {
            Value out = Value::map();
            for (const auto& [k, i] : v.entries()) out.set(k, render_value(i, scope, opts));
            return out.at(v.mark());
        }
        case Value::Kind::Secret: {
            if (!opts.reveal_secrets) return Value::string("***").at(v.mark());
            Value out = Value::string(resolve_secret(v.as_string(), opts.secret_base_dir).reveal());
            return out.add_taint(Value::kSensitive).at(v.mark());
        }
        default: return v;
    }
}

}  // namespace decamp::tmpl
