// postgresql_db / postgresql_user helpers exposed for tests: SQL quoting, and the SQL that
// checks a password against the stored SCRAM-SHA-256 or md5 verifier inside PostgreSQL.
#pragma once

#include <string>

namespace decamp::modules {

// "name" with embedded " doubled. Throws ArgError(key) on a NUL byte.
std::string pg_quote_ident(const std::string& key, const std::string& ident);
// 'text' with ' doubled; E'...' with \ doubled when a backslash is present, so the result is
// right whatever standard_conforming_strings says.
std::string pg_quote_literal(const std::string& key, const std::string& text);
// A boolean SQL expression over pg_authid (alias a): does role `user`'s stored password
// match `password`? Handles SCRAM-SHA-256 (PBKDF2 recomputed with the stored salt and
// iteration count), md5, and a password given already hashed.
std::string pg_password_matches_sql(const std::string& user, const std::string& password);

}  // namespace decamp::modules
