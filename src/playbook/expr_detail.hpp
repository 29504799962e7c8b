// Internal to the template engine: an evaluation result, a value or "undefined".
#pragma once

#include <string>
#include <string_view>

#include "playbook/template.hpp"

namespace decamp::tmpl::detail {

struct Res {
    Res() = default;
    Res(Value value) : v(std::move(value)) {}  // NOLINT: implicit on purpose
    Value v;
    bool undefined = false;
    std::string missing;  // the name that was undefined
    static Res undef(std::string name) {
        Res r;
        r.undefined = true;
        r.missing = std::move(name);
        return r;
    }
};

Res eval(std::string_view expr, const Scope& scope, const Options& opts);

}  // namespace decamp::tmpl::detail
