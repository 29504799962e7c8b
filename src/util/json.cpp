#include "util/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace decamp::json {

namespace {

constexpr int kMaxDepth = 200;  // deeper documents are refused instead of overflowing the stack

class Parser {
public:
    explicit Parser(std::string_view text) : s_(text) {}

    Value document() {
        skip_ws();
        Value v = value(0);
        skip_ws();
        if (pos_ != s_.size()) fail("unexpected text after the document");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw ParseError("invalid JSON at offset " + std::to_string(pos_) + ": " + what);
    }

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }

    void skip_ws() {
        while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }

    void expect_word(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) fail("unexpected character");
        pos_ += word.size();
    }

    Value value(int depth) {
        if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth));
        if (at_end()) fail("unexpected end of input");
        switch (peek()) {
        case '{': return object(depth);
        case '[': return array(depth);
        case '"': return Value(string());
        case 't': expect_word("true"); return Value(true);
        case 'f': expect_word("false"); return Value(false);
        case 'n': expect_word("null"); return Value();
        default:
            if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
            fail(std::string("unexpected character '") + printable(peek()) + "'");
        }
    }

    static std::string printable(char c) {
        if (c >= 0x20 && c < 0x7f) return std::string(1, c);
        char buf[8];
        snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
        return buf;
    }

    Value object(int depth) {
        ++pos_;  // {
        Value v{Value::Object{}};
        skip_ws();
        if (peek() == '}') {
            ++pos_;
            return v;
        }
        for (;;) {
            skip_ws();
            if (peek() != '"') fail("expected a member name in quotes");
            std::string key = string();
            skip_ws();
            if (peek() != ':') fail("expected ':' after a member name");
            ++pos_;
            skip_ws();
            v.object().emplace_back(std::move(key), value(depth + 1));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return v;
            }
            fail("expected ',' or '}' in an object");
        }
    }

    Value array(int depth) {
        ++pos_;  // [
        Value v{Value::Array{}};
        skip_ws();
        if (peek() == ']') {
            ++pos_;
            return v;
        }
        for (;;) {
            skip_ws();
            v.array().push_back(value(depth + 1));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return v;
            }
            fail("expected ',' or ']' in an array");
        }
    }

    Value number() {
        size_t start = pos_;
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++pos_;
        } else {
            fail("expected a digit");
        }
        if (peek() == '.') {
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit after '.'");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit in the exponent");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        double d = 0;
        // from_chars does not take a leading '+', and the grammar above never lets one in.
        auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, d);
        if (ec == std::errc::result_out_of_range) {
            d = (s_[start] == '-') ? -HUGE_VAL : HUGE_VAL;
            // A tiny exponent underflows to zero; that is fine for us.
            for (size_t i = start; i < pos_; ++i)
                if ((s_[i] == 'e' || s_[i] == 'E') && i + 1 < pos_ && s_[i + 1] == '-') d = 0;
            if (std::isinf(d)) {
                pos_ = start;
                fail("number out of range");
            }
        } else if (ec != std::errc() || ptr != s_.data() + pos_) {
            pos_ = start;
            fail("malformed number");
        }
        return Value(d);
    }

    unsigned hex4() {
        if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
            else fail("bad hex digit in \\u escape");
        }
        return v;
    }

    static void put_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    std::string string() {
        ++pos_;  // opening quote
        std::string out;
        for (;;) {
            if (at_end()) fail("unterminated string");
            char c = s_[pos_];
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c != '\\') {
                out += c;
                ++pos_;
                continue;
            }
            ++pos_;
            if (at_end()) fail("unterminated escape");
            char e = s_[pos_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned cp = hex4();
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (s_.substr(pos_, 2) != "\\u") fail("high surrogate without a low one");
                    pos_ += 2;
                    unsigned lo = hex4();
                    if (lo < 0xDC00 || lo > 0xDFFF) fail("high surrogate without a low one");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail("low surrogate without a high one");
                }
                put_utf8(out, cp);
                break;
            }
            default:
                --pos_;
                fail(std::string("unknown escape '\\") + printable(e) + "'");
            }
        }
    }

    std::string_view s_;
    size_t pos_ = 0;
};

const Value& null_value() {
    static const Value v;
    return v;
}

void dump_to(std::string& out, const Value& v) {
    switch (v.type()) {
    case Value::Type::Null: out += "null"; return;
    case Value::Type::Bool: out += v.bool_or(false) ? "true" : "false"; return;
    case Value::Type::Number: {
        double d = v.number_or(0);
        if (!std::isfinite(d)) {
            out += "null";  // JSON has no NaN or infinity
            return;
        }
        char buf[32];
        std::to_chars_result r{};
        if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0)
            r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(d));
        else
            r = std::to_chars(buf, buf + sizeof buf, d);
        out.append(buf, r.ptr);
        return;
    }
    case Value::Type::String: out += quote(v.str()); return;
    case Value::Type::Array: {
        out += '[';
        bool first = true;
        for (const auto& e : v.array()) {
            if (!first) out += ',';
            first = false;
            dump_to(out, e);
        }
        out += ']';
        return;
    }
    case Value::Type::Object: {
        out += '{';
        bool first = true;
        for (const auto& [k, e] : v.object()) {
            if (!first) out += ',';
            first = false;
            out += quote(k);
            out += ':';
            dump_to(out, e);
        }
        out += '}';
        return;
    }
    }
}

}  // namespace

int64_t Value::int_or(int64_t fallback) const {
    if (!is_number() || !std::isfinite(num_)) return fallback;
    if (num_ < -9.2e18 || num_ > 9.2e18) return fallback;
    return static_cast<int64_t>(num_);
}

const Value* Value::find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (const auto& [k, v] : obj_)
        if (k == key) return &v;
    return nullptr;
}

const Value& Value::operator[](std::string_view key) const {
    const Value* v = find(key);
    return v ? *v : null_value();
}

const Value& Value::operator[](size_t index) const {
    if (!is_array() || index >= arr_.size()) return null_value();
    return arr_[index];
}

Value& Value::set(std::string key, Value v) {
    if (is_null()) type_ = Type::Object;
    for (auto& [k, e] : obj_) {
        if (k == key) {
            e = std::move(v);
            return *this;
        }
    }
    obj_.emplace_back(std::move(key), std::move(v));
    return *this;
}

Value& Value::push(Value v) {
    if (is_null()) type_ = Type::Array;
    arr_.push_back(std::move(v));
    return *this;
}

bool Value::operator==(const Value& o) const {
    if (type_ != o.type_) return false;
    switch (type_) {
    case Type::Null: return true;
    case Type::Bool: return bool_ == o.bool_;
    case Type::Number: return num_ == o.num_;
    case Type::String: return str_ == o.str_;
    case Type::Array: return arr_ == o.arr_;
    case Type::Object: return obj_ == o.obj_;
    }
    return false;
}

Value parse(std::string_view text) { return Parser(text).document(); }

std::string dump(const Value& v) {
    std::string out;
    dump_to(out, v);
    return out;
}

std::string quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return out;
}

}  // namespace decamp::json
