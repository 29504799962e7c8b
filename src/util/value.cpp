#include "util/value.hpp"

#include "util/json.hpp"

namespace decamp {

Value Value::boolean(bool b) { Value v; v.kind_ = Kind::Bool; v.b_ = b; return v; }
Value Value::integer(int64_t i) { Value v; v.kind_ = Kind::Int; v.i_ = i; return v; }
Value Value::string(std::string s) { Value v; v.kind_ = Kind::String; v.s_ = std::move(s); return v; }
Value Value::list(std::vector<Value> items) {
    Value v;
    v.kind_ = Kind::List;
    v.items_ = std::move(items);
    return v;
}
Value Value::map() { Value v; v.kind_ = Kind::Map; return v; }
Value Value::secret(std::string reference) {
    Value v;
    v.kind_ = Kind::Secret;
    v.s_ = std::move(reference);
    return v;
}

bool Value::is_scalar() const {
    return kind_ == Kind::Bool || kind_ == Kind::Int || kind_ == Kind::String ||
           kind_ == Kind::Secret;
}

const Value* Value::get(const std::string& key) const {
    if (kind_ != Kind::Map) return nullptr;
    for (const auto& [k, v] : entries_)
        if (k == key) return &v;
    return nullptr;
}

Value* Value::get(const std::string& key) {
    if (kind_ != Kind::Map) return nullptr;
    for (auto& [k, v] : entries_)
        if (k == key) return &v;
    return nullptr;
}

Value& Value::set(const std::string& key, Value v) {
    if (kind_ != Kind::Map) {
        *this = map();
    }
    for (auto& [k, old] : entries_)
        if (k == key) return old = std::move(v);
    entries_.emplace_back(key, std::move(v));
    return entries_.back().second;
}

Mark Value::key_mark(const std::string& key) const {
    for (const auto& [k, m] : key_marks_)
        if (k == key) return m;
    if (const Value* v = get(key)) return v->mark();
    return mark_;
}

void Value::set_key_mark(const std::string& key, Mark m) {
    for (auto& [k, old] : key_marks_)
        if (k == key) { old = std::move(m); return; }
    key_marks_.emplace_back(key, std::move(m));
}

uint8_t Value::taint() const {
    uint8_t t = taint_;
    for (const auto& i : items_) t |= i.taint();
    for (const auto& [k, v] : entries_) t |= v.taint();
    return t;
}

Value& Value::add_taint(uint8_t bits) {
    if (!bits) return *this;
    taint_ |= bits;
    for (auto& i : items_) i.add_taint(bits);
    for (auto& [k, v] : entries_) v.add_taint(bits);
    return *this;
}

size_t Value::size() const {
    switch (kind_) {
        case Kind::List: return items_.size();
        case Kind::Map: return entries_.size();
        case Kind::String: return s_.size();
        default: return 0;
    }
}

std::string Value::to_text() const {
    switch (kind_) {
        case Kind::Null: return "";
        case Kind::Bool: return b_ ? "true" : "false";
        case Kind::Int: return std::to_string(i_);
        case Kind::String: return s_;
        case Kind::Secret: return "***";
        default: return to_json();
    }
}

std::string Value::to_json() const { return json::dump(to_json_value()); }

json::Value Value::to_json_value() const {
    switch (kind_) {
        case Kind::Null: return json::Value();
        case Kind::Bool: return json::Value(b_);
        case Kind::Int: return json::Value(i_);
        case Kind::String: return json::Value(s_);
        case Kind::Secret: return json::Value("***");
        case Kind::List: {
            json::Value out = json::Value::Array{};
            for (const auto& e : items_) out.push(e.to_json_value());
            return out;
        }
        case Kind::Map: {
            json::Value out = json::Value::Object{};
            for (const auto& [k, v] : entries_) out.set(k, v.to_json_value());
            return out;
        }
    }
    return json::Value();
}

bool Value::truthy() const {
    switch (kind_) {
        case Kind::Null: return false;
        case Kind::Bool: return b_;
        case Kind::Int: return i_ != 0;
        case Kind::String: return !s_.empty();
        case Kind::Secret: return true;
        case Kind::List: return !items_.empty();
        case Kind::Map: return !entries_.empty();
    }
    return false;
}

bool operator==(const Value& a, const Value& b) {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
        case Value::Kind::Null: return true;
        case Value::Kind::Bool: return a.b_ == b.b_;
        case Value::Kind::Int: return a.i_ == b.i_;
        case Value::Kind::String:
        case Value::Kind::Secret: return a.s_ == b.s_;
        case Value::Kind::List: return a.items_ == b.items_;
        case Value::Kind::Map: return a.entries_ == b.entries_;
    }
    return false;
}

}  // namespace decamp
