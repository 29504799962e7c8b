// decamp's JSON: nlohmann::json underneath, this small facade on top. Only util/json.cpp
// includes <nlohmann/json.hpp> (about 3 s of compile time per file that does); everyone
// else sees the forward declaration.
//
// Reading is strict (RFC 8259, UTF-8) and bounded: text from the network (DNS and provider
// APIs, restic) that is malformed, hostile or nested deeper than kMaxDepth is a ParseError
// naming the byte offset, never a crash. Accessors are lenient: a missing member or a
// different type gives the caller's fallback, so API answers read as v["a"]["b"].str().
//
// Writing is compact, keeps insertion order (scripts grep `"host":"…","address":…`), and
// never throws on bytes a host sent: invalid UTF-8 becomes U+FFFD.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/error.hpp"

namespace decamp::json {

class ParseError : public Error {
public:
    using Error::Error;
};

// Deeper documents are refused while parsing: copies, comparison and serialisation
// recurse, so an unbounded depth would overflow the stack after the parse.
constexpr int kMaxDepth = 200;

using Node = nlohmann::ordered_json;

// A read-only view of a node inside a Value; like std::string_view it must not outlive the
// Value it points into. A view of a missing member is null.
class Ref {
public:
    Ref();  // null
    explicit Ref(const Node* node) : node_(node) {}

    bool is_null() const;
    bool is_bool() const;
    bool is_number() const;
    bool is_string() const;
    bool is_array() const;
    bool is_object() const;

    // Typed reads with a fallback for a missing or differently typed value: API answers are
    // read leniently, and the caller decides what a missing field means.
    bool bool_or(bool fallback) const;
    double number_or(double fallback) const;
    int64_t int_or(int64_t fallback) const;  // integers, and finite doubles truncated
    std::string string_or(std::string fallback) const;
    const std::string& str() const;  // "" unless a string

    // Member lookup: nullopt when not an object or no such key.
    std::optional<Ref> find(std::string_view key) const;
    // Member or element; null when missing, so chains like v["a"]["b"][3] never throw.
    Ref operator[](std::string_view key) const;
    Ref operator[](size_t index) const;
    size_t size() const;  // elements or members; 0 for scalars

    std::vector<Ref> items() const;                                 // empty unless an array
    std::vector<std::pair<std::string, Ref>> members() const;       // empty unless an object

    const Node& node() const { return *node_; }  // for .cpp files that include nlohmann

    friend bool operator==(const Ref& a, const Ref& b);

protected:
    const Node* node_;
};

// An owned JSON document, built with set()/push() or returned by parse().
class Value : public Ref {
public:
    using Array = std::vector<Value>;
    using Object = std::vector<std::pair<std::string, Value>>;  // order kept

    Value();  // null
    Value(std::nullptr_t) : Value() {}
    Value(bool b);
    Value(int n);
    Value(int64_t n);
    Value(uint64_t n);
    Value(double d);  // integral values below 2^53 are written as integers; NaN/inf as null
    Value(const char* s);
    Value(std::string s);
    Value(std::string_view s);
    Value(Array a);
    Value(Object o);
    explicit Value(const Ref& r);  // a deep copy
    explicit Value(Node n);
    ~Value();
    Value(const Value& other);
    Value(Value&& other) noexcept;
    Value& operator=(const Value& other);
    Value& operator=(Value&& other) noexcept;

    // Adds (or replaces) a member; turns a null Value into an object first.
    Value& set(std::string_view key, Value v);
    // Appends an element; turns a null Value into an array first.
    Value& push(Value v);

private:
    static Node take(Value& v);  // v's node, moved out (null when v owns none)
    Node& mut();
    std::unique_ptr<Node> own_;
};

// Parses one JSON document, surrounding whitespace allowed. Throws ParseError.
Value parse(std::string_view text);

// Compact serialisation; strings escaped as RFC 8259 requires, UTF-8 passed through.
std::string dump(const Ref& v);
// A JSON string literal for `s`, quotes included (the escaping dump() uses).
std::string quote(std::string_view s);
// `d` rounded to `decimals` places: reports give seconds to the millisecond, not 17 digits.
double rounded(double d, int decimals = 3);

}  // namespace decamp::json
