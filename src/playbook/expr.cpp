// Expression evaluation for templates and conditions: a small recursive-descent parser over
// the text, evaluated as it parses (expressions are short; no AST is kept).
#include <algorithm>
#include <cctype>

#include "playbook/expr_detail.hpp"
#include "playbook/template.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"

namespace decamp::tmpl {

namespace detail {

namespace {

// The one list of filters and tests: the evaluator dispatches on these names and the static
// check accepts exactly these. `undefined_ok`: it handles an undefined operand itself
// (default(), is defined), so a name used there is optional, not a mistake.
struct Known {
    std::string_view name;
    size_t min_args;
    bool undefined_ok;
};

// clang-format off
constexpr Known kFilters[] = {
    {"default", 0, true}, {"d", 0, true}, {"join", 0, false}, {"lower", 0, false},
    {"upper", 0, false}, {"quote", 0, false}, {"b64encode", 0, false}, {"length", 0, false},
    {"count", 0, false}, {"trim", 0, false}, {"int", 0, false}, {"string", 0, false},
    {"bool", 0, false}, {"first", 0, false}, {"last", 0, false}, {"replace", 2, false},
    {"list", 0, false}, {"basename", 0, false}, {"dirname", 0, false}, {"regex_search", 1, false},
    {"version_compare", 1, false}, {"regex_replace", 1, false}, {"to_json", 0, false},
    {"to_nice_json", 0, false}, {"dict2items", 0, false}, {"items2dict", 0, false},
};
// clang-format on

constexpr Known kTests[] = {
    {"defined", 0, true},          {"undefined", 0, true}, {"none", 0, false},     {"string", 0, false},
    {"number", 0, false},          {"mapping", 0, false},  {"iterable", 0, false}, {"sequence", 0, false},
    {"changed", 0, false},         {"failed", 0, false},   {"skipped", 0, false},  {"succeeded", 0, false},
    {"success", 0, false},         {"true", 0, false},     {"false", 0, false},    {"version", 1, false},
    {"version_compare", 1, false}, {"match", 1, false},    {"search", 1, false},   {"regex", 1, false},
};

template <size_t N>
const Known* find_known(const Known (&table)[N], std::string_view name) {
    for (const auto& k : table)
        if (k.name == name) return &k;
    return nullptr;
}

template <size_t N>
std::string known_list(const Known (&table)[N]) {
    std::string out;
    for (const auto& k : table) out += (out.empty() ? "" : ", ") + std::string(k.name);
    return out;
}

template <size_t N>
std::vector<std::string> known_names(const Known (&table)[N]) {
    std::vector<std::string> out;
    for (const auto& k : table) out.emplace_back(k.name);
    return out;
}

}  // namespace

// Check mode (see check_* in template.hpp): the same grammar, but no value is looked up,
// computed or applied. Every variable is "defined, value unknown" (a null Value), so the
// parse never depends on data; filters and tests are checked by name and argument count.
struct CheckSink {
    const std::vector<std::string>* bound = nullptr;  // {% for %} variables in force
    size_t offset = 0;                                // where the expression sits in its text
    bool conditional = false;                         // the whole expression may not run
    Check* out = nullptr;
};

class Parser {
public:
    Parser(std::string_view src, const Scope& scope, const Options& opts, Budget& budget,
           CheckSink* check = nullptr)
        : s_(src), scope_(scope), opts_(opts), budget_(budget), check_(check) {}

    Res parse_full() {
        Res r = parse_or();
        skip_ws();
        if (pos_ != s_.size()) fail("unexpected \"" + std::string(s_.substr(pos_, 12)) + "\"");
        return r;
    }

    // Used by {% for x in expr %}.
    size_t pos() const { return pos_; }

    [[noreturn]] void fail(const std::string& msg) const {
        throw TemplateError("in expression \"" + std::string(s_) + "\": " + msg, pos_);
    }

private:
    // Check mode: names used, optional ones, and what runs only sometimes.
    size_t names_seen() const { return check_ ? check_->out->names.size() : 0; }
    void note_name(const std::string& name) {
        const auto* b = check_->bound;
        if (b && std::find(b->begin(), b->end(), name) != b->end()) return;
        check_->out->names.push_back(NameRef{name, check_->offset, check_->conditional || cond_depth_ > 0});
    }
    // Names used in the operand of default() or `is defined` since `first` are optional.
    void guard_names(size_t first) {
        if (!check_) return;
        auto& names = check_->out->names;
        for (size_t i = first; i < names.size(); ++i) check_->out->guarded.push_back(names[i].name);
    }
    // What `parse` reads is evaluated only sometimes (the right side of and/or, default()'s
    // fallback): a name there that nothing defines may be fine.
    template <class F>
    auto conditionally(F parse) {
        ++cond_depth_;
        auto r = parse();
        --cond_depth_;
        return r;
    }

    void skip_ws() {
        while (pos_ < s_.size() && isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    bool peek(std::string_view tok) {
        skip_ws();
        return s_.substr(pos_, tok.size()) == tok;
    }
    bool peek_word(std::string_view w) {
        skip_ws();
        if (s_.substr(pos_, w.size()) != w) return false;
        size_t e = pos_ + w.size();
        return e >= s_.size() || !(isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_');
    }
    bool eat(std::string_view tok) {
        if (!peek(tok)) return false;
        pos_ += tok.size();
        return true;
    }
    bool eat_word(std::string_view w) {
        if (!peek_word(w)) return false;
        pos_ += w.size();
        return true;
    }
    std::string ident() {
        skip_ws();
        size_t start = pos_;
        if (pos_ < s_.size() && (isalpha(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
            while (pos_ < s_.size() && (isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
        }
        if (start == pos_) fail("expected a name");
        return std::string(s_.substr(start, pos_ - start));
    }

    static Value reveal(const Value& v, const Options& opts) {
        if (v.kind() != Value::Kind::Secret) return v;
        if (!opts.reveal_secrets) return Value::string("***");
        return Value::string(resolve_secret(v.as_string(), opts.secret_base_dir).reveal()).add_taint(Value::kSensitive);
    }

    // A value computed from `ins` carries their provenance (a yes/no answer carries none:
    // it is not text that could leak or be rendered). New text counts against the budget.
    Value derived(Value out, std::initializer_list<const Value*> ins) {
        if (out.kind() != Value::Kind::Bool)
            for (const Value* i : ins) out.add_taint(i->taint());
        if (out.is_string()) budget_.produced(out.as_string().size());
        return out;
    }

    Res parse_or() {
        Res l = parse_and();
        while (eat_word("or")) {
            Res r = conditionally([&] { return parse_and(); });
            if (l.undefined) continue;  // the rest is still parsed: syntax never depends on values
            if (!l.v.truthy()) l = r;
            if (!l.undefined) l.v = Value::boolean(l.v.truthy());
        }
        return l;
    }
    Res parse_and() {
        Res l = parse_not();
        while (eat_word("and")) {
            Res r = conditionally([&] { return parse_not(); });
            if (l.undefined) continue;
            if (l.v.truthy()) l = r;
            if (!l.undefined) l.v = Value::boolean(l.v.truthy());
        }
        return l;
    }
    Res parse_not() {
        if (eat_word("not")) {
            Res r = parse_not();
            if (r.undefined) return r;
            return Res{Value::boolean(!r.v.truthy())};
        }
        return parse_cmp();
    }

    Res parse_cmp() {
        size_t first_name = names_seen();
        Res l = parse_add();
        if (eat_word("is")) {
            bool neg = eat_word("not");
            std::string test = ident();
            const Known* k = find_known(kTests, test);
            if (!k) fail("unknown test \"" + test + "\"; expected one of " + known_list(kTests));
            auto args = call_args();
            if (args.size() < k->min_args)
                fail("test \"" + test + "\" needs " + std::to_string(k->min_args) + " argument(s)");
            if (check_) {
                if (k->undefined_ok) guard_names(first_name);
                return Res{Value::boolean(false)};
            }
            bool r = apply_test(test, l, args);
            return Res{Value::boolean(neg ? !r : r)};
        }
        static const char* ops[] = {"==", "!=", "<=", ">=", "<", ">"};
        for (const char* op : ops) {
            if (eat(op)) {
                Res r = parse_add();
                if (l.undefined) return l;
                if (r.undefined) return r;
                std::string o = op;
                bool res;
                if (o == "==") res = loosely_equal(l.v, r.v);
                else if (o == "!=") res = !loosely_equal(l.v, r.v);
                else {
                    int c = compare(l.v, r.v);
                    res = o == "<" ? c < 0 : o == ">" ? c > 0 : o == "<=" ? c <= 0 : c >= 0;
                }
                return Res{Value::boolean(res)};
            }
        }
        size_t save = pos_;
        bool neg = false;
        if (eat_word("not")) {
            if (!peek_word("in")) {
                pos_ = save;
                return l;
            }
            neg = true;
        }
        if (eat_word("in")) {
            Res r = parse_add();
            if (l.undefined) return l;
            if (r.undefined) return r;
            bool c = contains(r.v, l.v);
            return Res{Value::boolean(neg ? !c : c)};
        }
        return l;
    }

    // Arguments as values: an undefined one is an error.
    std::vector<Value> plain(const std::vector<Res>& args) {
        std::vector<Value> out;
        for (const auto& a : args) {
            if (a.undefined) fail("\"" + a.missing + "\" is undefined");
            out.push_back(a.v);
        }
        return out;
    }

    bool apply_test(const std::string& test, const Res& r, const std::vector<Res>& args) {
        if (test == "defined") return !r.undefined;
        if (test == "undefined") return r.undefined;
        if (r.undefined) fail("\"" + r.missing + "\" is undefined (test \"" + test + "\")");
        try {
            if (auto t = value_test(test, r.v, plain(args))) return *t;
        } catch (const Error& e) {  // a bad version operator
            fail(e.what());
        }
        fail("test \"" + test + "\" is listed in kTests but not implemented");
    }

    Res parse_add() {
        Res l = parse_filtered();
        while (true) {
            if (eat("~")) {
                Res r = parse_filtered();
                if (l.undefined) continue;
                if (r.undefined) { l = r; continue; }
                l.v = derived(Value::string(l.v.to_text() + r.v.to_text()), {&l.v, &r.v});
            } else if (peek("+") ) {
                ++pos_;
                Res r = parse_filtered();
                if (l.undefined) continue;
                if (r.undefined) { l = r; continue; }
                if (l.v.kind() == Value::Kind::Int && r.v.kind() == Value::Kind::Int)
                    l.v = derived(Value::integer(l.v.as_int() + r.v.as_int()), {&l.v, &r.v});
                else if (l.v.is_list() && r.v.is_list()) {
                    // A list item costs far more than a byte of text: weighed as 8 steps.
                    budget_.step(8 * (l.v.items().size() + r.v.items().size()));
                    Value out = l.v;
                    for (const auto& i : r.v.items()) out.push(i);
                    l.v = derived(std::move(out), {});  // the items keep their own provenance
                } else
                    l.v = derived(Value::string(l.v.to_text() + r.v.to_text()), {&l.v, &r.v});
            } else if (peek("-") && !peek("-}") && !peek("-%")) {
                ++pos_;
                Res r = parse_filtered();
                if (l.undefined || check_) continue;
                if (r.undefined) { l = r; continue; }
                if (l.v.kind() != Value::Kind::Int || r.v.kind() != Value::Kind::Int) fail("'-' needs two numbers");
                l.v = derived(Value::integer(l.v.as_int() - r.v.as_int()), {&l.v, &r.v});
            } else {
                return l;
            }
        }
    }

    std::vector<Res> call_args() {
        std::vector<Res> args;
        if (!eat("(")) return args;
        if (eat(")")) return args;
        do {
            // name=value: taken by position (operator=, ignorecase=), except the version
            // test's strict= and version_type=, which change nothing here.
            const size_t save = pos_;
            std::string key;
            skip_ws();
            if (pos_ < s_.size() && (isalpha(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) key = ident();
            if (key.empty() || !eat("=") || peek("=")) pos_ = save, key.clear();
            Res a = parse_or();
            if (key != "strict" && key != "version_type") args.push_back(std::move(a));
        } while (eat(","));
        if (!eat(")")) fail("expected ')'");
        return args;
    }

    Res parse_filtered() {
        size_t first_name = names_seen();
        Res v = parse_postfix();
        while (true) {
            skip_ws();
            if (pos_ < s_.size() && s_[pos_] == '|' && !(pos_ + 1 < s_.size() && s_[pos_ + 1] == '|')) {
                ++pos_;
                std::string name = ident();
                const Known* k = find_known(kFilters, name);
                if (!k) fail("unknown filter \"" + name + "\"; expected one of " + known_list(kFilters));
                if (k->undefined_ok) guard_names(first_name);
                // default()'s arguments are used only when the value is undefined.
                auto args = k->undefined_ok ? conditionally([&] { return call_args(); }) : call_args();
                if (args.size() < k->min_args)
                    fail("filter \"" + name + "\" needs " + std::to_string(k->min_args) + " argument(s)");
                budget_.step();
                if (check_) continue;
                v = apply_filter(name, v, args);
            } else {
                return v;
            }
        }
    }

    Res apply_filter(const std::string& name, const Res& in, const std::vector<Res>& args) {
        auto arg = [&](size_t i) -> const Value& {
            if (i >= args.size()) fail("filter \"" + name + "\" needs " + std::to_string(i + 1) + " argument(s)");
            if (args[i].undefined) fail("\"" + args[i].missing + "\" is undefined");
            return args[i].v;
        };
        if (name == "default" || name == "d") {
            bool falsy_too = args.size() > 1 && !args[1].undefined && args[1].v.truthy();
            if (in.undefined || (falsy_too && !in.v.truthy())) {
                if (args.empty()) return Res{Value::string("")};
                return args[0];
            }
            return in;
        }
        if (in.undefined) return in;
        const Value& v = in.v;
        if (name == "join") {
            std::string sep = args.empty() ? "" : arg(0).to_text();
            const Value none;
            const Value& sepv = args.empty() ? none : arg(0);
            if (!v.is_list()) return Res{derived(Value::string(v.to_text()), {&v})};
            std::string out;
            uint8_t taint = 0;
            for (size_t i = 0; i < v.items().size(); ++i) {
                Value item = reveal(v.items()[i], opts_);
                taint |= item.taint();
                out += (i ? sep : "") + item.to_text();
                budget_.produced(sep.size() + item.to_text().size());
            }
            return Res{derived(Value::string(out).add_taint(taint), {&v, &sepv})};
        }
        // A count says nothing a log must hide, and masking "12" everywhere would mangle it.
        if (name == "length" || name == "count") return Res{Value::integer(static_cast<int64_t>(v.size()))};
        if (name == "int") {
            if (v.kind() == Value::Kind::Int) return in;
            try {
                return Res{derived(Value::integer(std::stoll(v.to_text())), {&v})};
            } catch (...) {
                if (args.empty()) return Res{Value::integer(0)};
                return Res{derived(Value::integer(arg(0).as_int()), {&arg(0)})};
            }
        }
        if (name == "first" || name == "last") {
            if (!v.is_list() || v.items().empty()) return Res::undef(name + " of an empty list");
            return Res{name == "first" ? v.items().front() : v.items().back()};
        }
        if (name == "replace") {
            std::string s = v.to_text(), from = arg(0).to_text(), to = arg(1).to_text();
            if (from.empty()) return Res{derived(Value::string(s), {&v})};
            size_t p = 0;
            while ((p = s.find(from, p)) != std::string::npos) {
                s.replace(p, from.size(), to);
                p += to.size();
                budget_.produced(to.size());
            }
            return Res{derived(Value::string(s), {&v, &arg(0), &arg(1)})};
        }
        {
            std::optional<Value> out;
            try {
                out = text_filter(name, v, plain(args));
            } catch (const Error& e) {  // a bad regular expression
                fail(e.what());
            }
            if (out) return Res{derived(std::move(*out), {&v})};
        }
        fail("filter \"" + name + "\" is listed in kFilters but not implemented");
    }

    Res parse_postfix() {
        Res v = parse_primary();
        while (true) {
            if (peek("..")) return v;
            if (eat(".")) {
                // Jinja's `item.0`: a number after the dot indexes a list.
                std::string key;
                while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_]))) key += s_[pos_++];
                if (key.empty()) key = ident();
                v = peek("(") ? method(v, key) : member(v, key);
            } else if (eat("[")) {
                Res idx = parse_or();
                if (!eat("]")) fail("expected ']'");
                if (v.undefined) continue;
                if (idx.undefined) {
                    v = idx;
                    continue;
                }
                if (idx.v.kind() == Value::Kind::Int && v.v.is_list()) {
                    int64_t i = idx.v.as_int();
                    int64_t n = static_cast<int64_t>(v.v.items().size());
                    if (i < 0) i += n;
                    if (i < 0 || i >= n) v = Res::undef(v.missing + "[" + std::to_string(idx.v.as_int()) + "]");
                    else v = Res{v.v.items()[static_cast<size_t>(i)]};
                } else {
                    v = member(v, idx.v.to_text());
                }
            } else {
                return v;
            }
        }
    }

    // A Python str method: `x.split(':')`. Its result keeps the provenance of all it used.
    Res method(const Res& base, const std::string& name) {
        if (!is_string_method(name)) fail("unknown method \"" + name + "\"");
        auto args = call_args();
        budget_.step();
        if (base.undefined || check_) return base;
        try {
            Value out = string_method(name, base.v, plain(args));
            if (out.kind() != Value::Kind::Bool)
                for (const auto& a : args) out.add_taint(a.v.taint());
            return Res{derived(std::move(out), {&base.v})};
        } catch (const Error& e) {
            fail(e.what());
        }
    }

    Res member(const Res& base, const std::string& key) {
        if (base.undefined || check_) return base;
        if (base.v.is_list() && isdigit(static_cast<unsigned char>(key[0]))) {
            const size_t i = key.size() > 9 ? base.v.items().size() : std::stoul(key);
            if (i < base.v.items().size()) return Res{reveal(base.v.items()[i], opts_)};
            return Res::undef(key);
        }
        if (const Value* f = base.v.get(key)) {
            Res r{reveal(*f, opts_)};
            r.missing = key;
            return r;
        }
        return Res::undef(key);
    }

    Res parse_primary() {
        budget_.step();
        skip_ws();
        if (pos_ >= s_.size()) fail("unexpected end of expression");
        char c = s_[pos_];
        if (c == '(') {
            ++pos_;
            Res r = parse_or();
            if (!eat(")")) fail("expected ')'");
            return r;
        }
        if (c == '[') {
            ++pos_;
            Value list = Value::list();
            Res undefined_item;
            if (!eat("]")) {
                do {
                    Res r = parse_or();
                    if (r.undefined && !undefined_item.undefined) undefined_item = r;
                    list.push(r.v);
                } while (eat(","));
                if (!eat("]")) fail("expected ']'");
            }
            if (undefined_item.undefined) return undefined_item;
            return Res{list};
        }
        if (c == '\'' || c == '"') {
            auto text = string_literal(s_, pos_);
            if (!text) fail("unterminated string");
            return Res{Value::string(std::move(*text))};
        }
        if (isdigit(static_cast<unsigned char>(c)) || (c == '-' && pos_ + 1 < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
            size_t start = pos_++;
            while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
            try {
                return Res{Value::integer(std::stoll(std::string(s_.substr(start, pos_ - start))))};
            } catch (const std::out_of_range&) {
                fail("number " + std::string(s_.substr(start, pos_ - start)) + " is too large");
            }
        }
        std::string name = ident();
        if (name == "true" || name == "True") return Res{Value::boolean(true)};
        if (name == "false" || name == "False") return Res{Value::boolean(false)};
        if (name == "none" || name == "None" || name == "null") return Res{Value::null()};
        if (check_) {
            note_name(name);
            return Res{};
        }
        if (const Value* v = scope_.lookup(name)) {
            Res r{reveal(*v, opts_)};
            r.missing = name;
            // Variables are templated when used, as in Ansible: `dir: "/srv/{{ host.name }}"`.
            // A host's data (unsafe) never is: has_template_inside skips it.
            if (has_template_inside(r.v)) {
                budget_.enter(name, v->mark());
                r.v = render_value(r.v, scope_, opts_);
                budget_.leave();
            }
            return r;
        }
        return Res::undef(name);
    }

    std::string_view s_;
    size_t pos_ = 0;
    const Scope& scope_;
    const Options& opts_;
    Budget& budget_;
    CheckSink* check_ = nullptr;
    int cond_depth_ = 0;
};

Res eval(std::string_view expr, const Scope& scope, const Options& opts) {
    BudgetGuard guard;
    Parser p(expr, scope, opts, guard.budget());
    return p.parse_full();
}

void check(std::string_view expr, const std::vector<std::string>& bound, size_t offset, bool conditional,
           Check& out) {
    BudgetGuard guard;
    const Scope none;
    const Options opts;
    CheckSink sink{&bound, offset, conditional, &out};
    Parser p(expr, none, opts, guard.budget(), &sink);
    (void)p.parse_full();
}

std::string condition_text(std::string_view expr) {
    std::string e(expr);
    // Ansible lets `when:` carry {{ }}; strip one level.
    if (e.find("{{") != std::string::npos) {
        size_t a = e.find("{{"), b = e.rfind("}}");
        if (b != std::string::npos && b > a) e = e.substr(a + 2, b - a - 2);
    }
    return e;
}

}  // namespace detail

Value evaluate(std::string_view expr, const Scope& scope, const Options& opts) {
    auto r = detail::eval(expr, scope, opts);
    if (r.undefined) throw TemplateError("\"" + r.missing + "\" is undefined (in \"" + std::string(expr) + "\")");
    detail::note_sensitive(r.v);
    return r.v;
}

bool evaluate_condition(std::string_view expr, const Scope& scope, const Options& opts) {
    return evaluate(detail::condition_text(expr), scope, opts).truthy();
}

std::optional<bool> try_condition(std::string_view expr, const Scope& scope, const Options& opts) {
    auto r = detail::eval(detail::condition_text(expr), scope, opts);
    if (r.undefined) return std::nullopt;
    return r.v.truthy();
}

Check check_condition(std::string_view expr) {
    Check out;
    try {
        detail::check(detail::condition_text(expr), {}, 0, false, out);
    } catch (const TemplateError& e) {
        out.error = e;
    }
    return out;
}

std::vector<std::string> filter_names() { return detail::known_names(detail::kFilters); }
std::vector<std::string> test_names() { return detail::known_names(detail::kTests); }

}  // namespace decamp::tmpl
