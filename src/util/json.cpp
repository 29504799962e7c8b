// The one file that includes nlohmann/json.hpp (see util/json.hpp for why).
#include "util/json.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace decamp::json {

namespace {

// A namespace-scope object, not a function-local static: handing out its address can never
// throw, so moves stay noexcept.
const Node kNull;
const Node& null_node() noexcept { return kNull; }

const std::string& empty_string() {
    static const std::string s;
    return s;
}

struct TooDeep {};

// The offset of the bracket that opens level kMaxDepth + 1, for the error message (the
// parser callback knows the depth but not the position).
size_t too_deep_offset(std::string_view text) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxDepth) return i;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return text.size();
}

// nlohmann says "[json.exception.parse_error.101] parse error at line 1, column 8: <what>";
// keep <what>, bounded (its "last read: '…'" quotes the input, which may be long).
std::string reason(const std::string& what) {
    std::string r = what;
    if (size_t at = r.find("] "); at != std::string::npos && r.compare(0, 16, "[json.exception.") == 0) {
        r.erase(0, at + 2);
        if (size_t colon = r.find(": "); colon != std::string::npos && r.compare(0, 11, "parse error") == 0)
            r.erase(0, colon + 2);
    }
    if (r.size() > 200) r = r.substr(0, 200) + "…";
    return r;
}

}  // namespace

// ---- Ref

Ref::Ref() : node_(&null_node()) {}

bool Ref::is_null() const { return node_->is_null(); }
bool Ref::is_bool() const { return node_->is_boolean(); }
bool Ref::is_number() const { return node_->is_number(); }
bool Ref::is_string() const { return node_->is_string(); }
bool Ref::is_array() const { return node_->is_array(); }
bool Ref::is_object() const { return node_->is_object(); }

bool Ref::bool_or(bool fallback) const { return is_bool() ? node_->get<bool>() : fallback; }

double Ref::number_or(double fallback) const { return is_number() ? node_->get<double>() : fallback; }

int64_t Ref::int_or(int64_t fallback) const {
    if (node_->is_number_integer() && !node_->is_number_unsigned()) return node_->get<int64_t>();
    if (node_->is_number_unsigned()) {
        auto u = node_->get<uint64_t>();
        return u > uint64_t(std::numeric_limits<int64_t>::max()) ? fallback : int64_t(u);
    }
    if (node_->is_number_float()) {
        double d = node_->get<double>();
        if (!std::isfinite(d) || d < -9.2e18 || d > 9.2e18) return fallback;
        return static_cast<int64_t>(d);
    }
    return fallback;
}

std::string Ref::string_or(std::string fallback) const {
    if (is_string()) return node_->get_ref<const std::string&>();
    return fallback;
}

const std::string& Ref::str() const { return is_string() ? node_->get_ref<const std::string&>() : empty_string(); }

std::optional<Ref> Ref::find(std::string_view key) const {
    if (!is_object()) return std::nullopt;
    auto it = node_->find(key);
    if (it == node_->end()) return std::nullopt;
    return Ref(&*it);
}

Ref Ref::operator[](std::string_view key) const {
    auto f = find(key);
    return f ? *f : Ref();
}

Ref Ref::operator[](size_t index) const {
    if (!is_array() || index >= node_->size()) return Ref();
    return Ref(&(*node_)[index]);
}

size_t Ref::size() const { return is_array() || is_object() ? node_->size() : 0; }

std::vector<Ref> Ref::items() const {
    std::vector<Ref> out;
    if (!is_array()) return out;
    out.reserve(node_->size());
    for (const auto& e : *node_) out.emplace_back(&e);
    return out;
}

std::vector<std::pair<std::string, Ref>> Ref::members() const {
    std::vector<std::pair<std::string, Ref>> out;
    if (!is_object()) return out;
    out.reserve(node_->size());
    for (const auto& [k, v] : node_->items()) out.emplace_back(k, Ref(&v));
    return out;
}

bool operator==(const Ref& a, const Ref& b) { return *a.node_ == *b.node_; }

// ---- Value

Value::Value() = default;
Value::Value(bool b) : Value(Node(b)) {}
Value::Value(int n) : Value(Node(n)) {}
Value::Value(int64_t n) : Value(Node(n)) {}
Value::Value(uint64_t n) : Value(Node(n)) {}
Value::Value(double d) {
    if (!std::isfinite(d)) return;  // JSON has no NaN or infinity: null
    if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0)
        mut() = static_cast<int64_t>(d);  // 12, not 12.0
    else
        mut() = d;
}
Value::Value(const char* s) : Value(Node(s)) {}
Value::Value(std::string s) : Value(Node(std::move(s))) {}
Value::Value(std::string_view s) : Value(Node(std::string(s))) {}
Value::Value(Array a) {
    Node& n = mut();
    n = Node::array();
    for (auto& e : a) n.push_back(take(e));
}
Value::Value(Object o) {
    Node& n = mut();
    n = Node::object();
    for (auto& member : o) n[member.first] = take(member.second);
}
Value::Value(const Ref& r) : Value(Node(r.node())) {}
Value::Value(Node n) : own_(std::make_unique<Node>(std::move(n))) { node_ = own_.get(); }
Value::~Value() = default;

// Ref's copy would point into `other`: this copy starts null and owns a copy of the node.
Value::Value(const Value& other) : Ref() {  // NOLINT(bugprone-copy-constructor-init)
    if (other.own_) {
        own_ = std::make_unique<Node>(*other.own_);
        node_ = own_.get();
    }
}

Value::Value(Value&& other) noexcept : Ref(), own_(std::move(other.own_)) {
    if (own_) node_ = own_.get();
    other.node_ = &null_node();
}

Value& Value::operator=(const Value& other) {
    if (this != &other) *this = Value(other);
    return *this;
}

Value& Value::operator=(Value&& other) noexcept {
    if (this == &other) return *this;
    own_ = std::move(other.own_);
    node_ = own_ ? own_.get() : &null_node();
    other.node_ = &null_node();
    return *this;
}

Node Value::take(Value& v) { return v.own_ ? std::move(*v.own_) : Node(); }

Node& Value::mut() {
    if (!own_) {
        own_ = std::make_unique<Node>();
        node_ = own_.get();
    }
    return *own_;
}

Value& Value::set(std::string_view key, Value v) {
    Node& n = mut();
    if (n.is_null()) n = Node::object();
    if (!n.is_object()) throw Error("json: set(\"" + std::string(key) + "\") on a value that is not an object");
    n[std::string(key)] = take(v);
    return *this;
}

Value& Value::push(Value v) {
    Node& n = mut();
    if (n.is_null()) n = Node::array();
    if (!n.is_array()) throw Error("json: push on a value that is not an array");
    n.push_back(take(v));
    return *this;
}

// ---- text

Value parse(std::string_view text) {
    auto limit = [](int depth, Node::parse_event_t event, Node&) {
        if ((event == Node::parse_event_t::object_start ||
             event == Node::parse_event_t::array_start) &&
            depth >= kMaxDepth)
            throw TooDeep{};
        return true;
    };
    try {
        return Value(Node::parse(text.begin(), text.end(), limit));
    } catch (const TooDeep&) {
        throw ParseError("invalid JSON at offset " + std::to_string(too_deep_offset(text)) +
                         ": nesting deeper than " + std::to_string(kMaxDepth));
    } catch (const nlohmann::json::parse_error& e) {
        size_t offset = e.byte > 0 ? e.byte - 1 : 0;
        throw ParseError("invalid JSON at offset " + std::to_string(offset) + ": " + reason(e.what()));
    } catch (const nlohmann::json::exception& e) {  // e.g. 406: a number out of range
        throw ParseError("invalid JSON: " + reason(e.what()));
    }
}

std::string dump(const Ref& v) { return v.node().dump(-1, ' ', false, Node::error_handler_t::replace); }

std::string quote(std::string_view s) { return dump(Value(s)); }

double rounded(double d, int decimals) {
    double scale = std::pow(10.0, decimals);
    return std::isfinite(d) ? std::round(d * scale) / scale : d;
}

}  // namespace decamp::json
