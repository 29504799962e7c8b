// A small, ordered, YAML-shaped value (null, bool, int, string, list, map, secret) used for
// variables, task arguments, facts and registered results. It keeps yaml-cpp out of every
// header and remembers where it came from for error messages, and its provenance (taint):
// whether it came from a host (unsafe: data, never a template) or from a secret (sensitive).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace decamp {

namespace json {
class Value;
}

class Value {
public:
    enum class Kind { Null, Bool, Int, String, List, Map, Secret };

    Value() = default;
    static Value null() { return Value(); }
    static Value boolean(bool b);
    static Value integer(int64_t i);
    static Value string(std::string s);
    static Value list(std::vector<Value> items = {});
    static Value map();
    // A reference such as ${env:NAME} or ${file:path}; resolved only when used.
    static Value secret(std::string reference);

    Kind kind() const { return kind_; }
    bool is_null() const { return kind_ == Kind::Null; }
    bool is_map() const { return kind_ == Kind::Map; }
    bool is_list() const { return kind_ == Kind::List; }
    bool is_string() const { return kind_ == Kind::String; }
    bool is_scalar() const;

    bool as_bool() const { return b_; }
    int64_t as_int() const { return i_; }
    const std::string& as_string() const { return s_; }  // string, or secret's reference
    const std::vector<Value>& items() const { return items_; }
    std::vector<Value>& items() { return items_; }
    const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }

    // Map access; nullptr when absent.
    const Value* get(const std::string& key) const;
    Value* get(const std::string& key);
    Value& set(const std::string& key, Value v);  // insert or replace, keeps order
    // Where a map key was written (falls back to the value's own mark).
    Mark key_mark(const std::string& key) const;
    void set_key_mark(const std::string& key, Mark m);
    void push(Value v) { items_.push_back(std::move(v)); }
    size_t size() const;

    // Scalars as text the way a template prints them (true/false, 42, text); lists and maps
    // as compact JSON-ish text. Secrets print as ***.
    std::string to_text() const;
    // Jinja/Ansible truthiness: null, false, 0, "", empty list/map are false.
    bool truthy() const;
    // JSON text (secrets as "***").
    std::string to_json() const;
    // The same as a JSON value, to nest in a larger document (include util/json.hpp).
    json::Value to_json_value() const;

    // Provenance bits, kept through copies and OR-ed by every template operation that
    // combines values. Unsafe: sent by a host (output, facts); inserted literally, never
    // rendered again. Sensitive: derived from a secret; masked wherever it is printed.
    enum Taint : uint8_t { kUnsafe = 1, kSensitive = 2 };
    uint8_t own_taint() const { return taint_; }
    uint8_t taint() const;  // this value's bits and every child's
    bool is_unsafe() const { return (taint() & kUnsafe) != 0; }
    bool is_sensitive() const { return (taint() & kSensitive) != 0; }
    Value& add_taint(uint8_t bits);  // on this value and every child

    const Mark& mark() const { return mark_; }
    Value& at(Mark m) { mark_ = std::move(m); return *this; }

    friend bool operator==(const Value& a, const Value& b);

private:
    Kind kind_ = Kind::Null;
    uint8_t taint_ = 0;
    bool b_ = false;
    int64_t i_ = 0;
    std::string s_;
    std::vector<Value> items_;
    std::vector<std::pair<std::string, Value>> entries_;
    std::vector<std::pair<std::string, Mark>> key_marks_;
    Mark mark_;
};

}  // namespace decamp
