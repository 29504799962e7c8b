// The sh pieces every PostgreSQL command builder composes (pg_replica, pg_logical): psql as
// the cluster's OS user over the local socket, atomic rewrites of pg_hba.conf, and the one
// runner that takes the host's decamp-pg lock and masks the plan's password in its errors.
// Defined in pg_cluster.cpp.
#pragma once

#include <string>

#include "data/pg_replica.hpp"
#include "transport/transport.hpp"
#include "util/shell.hpp"

namespace decamp::data::pg {

bool all_chars(const std::string& s, const char* extra);  // letters, digits and `extra`
std::string bin(const Cluster& c, const char* prog);      // the cluster's program path
std::string hba_path(const Cluster& c);
shell::Argv as_user(const Cluster& c, shell::Argv argv);
// psql as the OS user over the local socket on `db`: stop on error, tuples only, unaligned.
shell::Argv psql_argv(const Cluster& c, const std::string& db);
// Script preamble: `cd /` and a psql_ function (as the OS user, over the local socket, stop
// on error, tuples only, stdin from /dev/null).
std::string preamble(const Cluster& c, const std::string& db = "postgres");
// A psql_stdin function: the same psql reading the script's stdin (SQL that holds a secret).
std::string psql_stdin_fn(const Cluster& c, const std::string& db = "postgres");
std::string psql_c(const std::string& sql);  // psql_ -c 'sql'
// Replaces `path` by the output of `filter` (which reads "$f"), atomically.
std::string rewrite_file(const std::string& path, const std::string& filter);
std::string reload_and_check_hba();
std::string mask(std::string text, const ReplicaPlan& p);  // the password, in each quoting, as ***
std::string tail(const std::string& s, size_t n = 2000);
std::string trim(std::string s);
// Runs `cmd` under the host's decamp-pg lock; Error naming `what` with the (masked) stderr.
transport::RunResult run_checked(transport::Transport& t, const std::string& what, const std::string& cmd,
                                 const ReplicaPlan* p, const transport::RunOptions& opts = {});

}  // namespace decamp::data::pg
