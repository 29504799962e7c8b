// How the loader checks a `data:` entry without naming any data kind: each kind validates
// its own keys offline and says which value names the set (a database, a path). The table
// is defined by data/registry.cpp, next to the movers; this declaration keeps inventory/
// from including data/ (data/ includes inventory/), so a new data kind is a mover file and
// a row in that table, and the loader does not change.
#pragma once

#include <string>
#include <vector>

#include "util/schema.hpp"
#include "util/value.hpp"

namespace decamp::inventory {

struct DataKindSchema {
    std::string kind;
    // The keys an entry of this kind may have besides `kind` and `role`.
    std::vector<std::string> keys;
    // Checks the entry's own keys through `check` (file:line:column, `path`); returns the
    // set's name, or "" when it could not be read (already reported).
    std::string (*validate)(const Value& entry, const std::string& path, schema::Checker& check);
};

// Every data kind decamp moves (defined in data/registry.cpp).
const std::vector<DataKindSchema>& data_kind_schemas();

}  // namespace decamp::inventory
