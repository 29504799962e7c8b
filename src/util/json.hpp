// A small, strict JSON reader and writer for the HTTP APIs of DNS back-ends and providers.
// Malformed input is a ParseError naming the byte offset, never a crash: nesting is bounded
// and every read is bounds-checked, because the text comes from the network.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace decamp::json {

class ParseError : public Error {
public:
    using Error::Error;
};

class Value {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };
    using Array = std::vector<Value>;
    using Object = std::vector<std::pair<std::string, Value>>;  // document order kept

    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : type_(Type::Bool), bool_(b) {}
    Value(int n) : type_(Type::Number), num_(n) {}
    Value(int64_t n) : type_(Type::Number), num_(double(n)) {}
    Value(double n) : type_(Type::Number), num_(n) {}
    Value(const char* s) : type_(Type::String), str_(s) {}
    Value(std::string s) : type_(Type::String), str_(std::move(s)) {}
    Value(Array a) : type_(Type::Array), arr_(std::move(a)) {}
    Value(Object o) : type_(Type::Object), obj_(std::move(o)) {}

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool is_bool() const { return type_ == Type::Bool; }
    bool is_number() const { return type_ == Type::Number; }
    bool is_string() const { return type_ == Type::String; }
    bool is_array() const { return type_ == Type::Array; }
    bool is_object() const { return type_ == Type::Object; }

    // Typed reads with a fallback for a missing or differently typed value: API answers are
    // read leniently, and the caller decides what a missing field means.
    bool bool_or(bool fallback) const { return is_bool() ? bool_ : fallback; }
    double number_or(double fallback) const { return is_number() ? num_ : fallback; }
    int64_t int_or(int64_t fallback) const;
    std::string string_or(std::string fallback) const {
        return is_string() ? str_ : std::move(fallback);
    }

    const std::string& str() const { return str_; }    // "" unless a string
    const Array& array() const { return arr_; }        // empty unless an array
    const Object& object() const { return obj_; }      // empty unless an object
    Array& array() { return arr_; }
    Object& object() { return obj_; }

    // Member lookup; nullptr when not an object or no such key (first one wins).
    const Value* find(std::string_view key) const;
    // Member or element; a shared null Value when missing, so chains like v["a"]["b"] are safe.
    const Value& operator[](std::string_view key) const;
    const Value& operator[](size_t index) const;
    size_t size() const { return is_array() ? arr_.size() : is_object() ? obj_.size() : 0; }

    // Adds (or replaces) a member; turns a null Value into an object first.
    Value& set(std::string key, Value v);
    // Appends an element; turns a null Value into an array first.
    Value& push(Value v);

    bool operator==(const Value& other) const;

private:
    Type type_ = Type::Null;
    bool bool_ = false;
    double num_ = 0;
    std::string str_;
    Array arr_;
    Object obj_;
};

// Parses one JSON document (RFC 8259), surrounding whitespace allowed. Throws ParseError.
Value parse(std::string_view text);

// Compact serialisation; strings escaped as RFC 8259 requires, UTF-8 passed through.
std::string dump(const Value& v);
// A JSON string literal for `s`, quotes included.
std::string quote(std::string_view s);

}  // namespace decamp::json
