#include "modules/lineinfile.hpp"

#include <algorithm>
#include <vector>

#include "modules/args.hpp"
#include "modules/attrs.hpp"
#include "modules/builtin.hpp"
#include "modules/command.hpp"
#include "util/regex.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

namespace {

std::vector<std::string> split_keep(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < s.size()) {
        size_t nl = s.find('\n', start);
        size_t end = nl == std::string::npos ? s.size() : nl + 1;
        out.push_back(s.substr(start, end - start));
        start = end;
    }
    return out;
}

std::string rstrip_crlf(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// A line is searched as it is, newline included: PCRE2's `$` matches before a final
// newline as Perl's (and Python's) does, so this agrees with the Perl run on the host.
bool search(const util::Regex& re, const std::string& line, std::vector<std::string>* groups = nullptr) {
    return re.search(line, groups);
}

// Python's match.expand: \1..\99, \g<n>, \n, \t, \\ .
std::string expand(const std::string& tmpl, const std::vector<std::string>& groups) {
    std::string out;
    for (size_t i = 0; i < tmpl.size(); ++i) {
        char c = tmpl[i];
        if (c != '\\' || i + 1 >= tmpl.size()) { out += c; continue; }
        char d = tmpl[i + 1];
        if (d >= '0' && d <= '9') {
            size_t j = i + 1;
            std::string num;
            while (j < tmpl.size() && num.size() < 2 && std::isdigit((unsigned char)tmpl[j])) num += tmpl[j++];
            size_t g = std::stoul(num);
            if (g < groups.size()) out += groups[g];
            i = j - 1;
        } else if (d == 'g' && i + 2 < tmpl.size() && tmpl[i + 2] == '<') {
            size_t close = tmpl.find('>', i + 3);
            std::string ref = close == std::string::npos ? "" : tmpl.substr(i + 3, close - i - 3);
            if (!ref.empty() && std::all_of(ref.begin(), ref.end(), ::isdigit)) {
                size_t g = std::stoul(ref);
                if (g < groups.size()) out += groups[g];
            }
            i = close == std::string::npos ? tmpl.size() : close;
        } else if (d == 'n') { out += '\n'; ++i; }
        else if (d == 't') { out += '\t'; ++i; }
        else if (d == '\\') { out += '\\'; ++i; }
        else { out += c; }
    }
    return out;
}

}  // namespace

LineinfileResult lineinfile_apply(const std::string& content, const LineinfileSpec& s) {
    std::vector<std::string> lines = split_keep(content);
    LineinfileResult r;
    const std::string line = s.line.value_or("");
    std::optional<util::Regex> re;
    if (s.regexp) re.emplace(*s.regexp);

    if (!s.present) {
        std::vector<std::string> kept;
        for (const auto& l : lines) {
            bool m = re ? search(*re, l)
                        : s.search_string ? l.find(*s.search_string) != std::string::npos
                                          : rstrip_crlf(l) == line;
            if (m) r.changed = true; else kept.push_back(l);
        }
        for (const auto& l : kept) r.content += l;
        return r;
    }

    std::optional<std::string> ia = s.insertafter, ib = s.insertbefore;
    if (!ia && !ib) ia = "EOF";
    std::optional<util::Regex> ins;
    if (ia && *ia != "BOF" && *ia != "EOF") ins.emplace(*ia);
    else if (ib && *ib != "BOF") ins.emplace(*ib);

    long idx0 = -1, idx1 = -1;
    bool match = false;
    std::vector<std::string> groups;
    if (re) {
        for (size_t i = 0; i < lines.size(); ++i) {
            std::vector<std::string> m;
            if (search(*re, lines[i], &m)) {
                idx0 = long(i);
                match = true;
                groups = std::move(m);
                if (s.firstmatch) break;
            }
        }
    }
    if (s.search_string) {
        for (size_t i = 0; i < lines.size(); ++i)
            if (lines[i].find(*s.search_string) != std::string::npos) {
                idx0 = long(i);
                match = true;
                if (s.firstmatch) break;
            }
    }
    if (!match) {
        for (size_t i = 0; i < lines.size(); ++i) {
            if (line == rstrip_crlf(lines[i])) {
                idx0 = long(i);
            } else if (ins && search(*ins, lines[i])) {
                if (ia) { idx1 = long(i) + 1; if (s.firstmatch) break; }
                if (ib) { idx1 = long(i); if (s.firstmatch) break; }
            }
        }
    }
    auto ends_nl = [](const std::string& l) { return !l.empty() && (l.back() == '\n' || l.back() == '\r'); };
    if (idx0 != -1) {
        std::string nl = s.backrefs && match ? expand(line, groups) : line;
        if (nl.empty() || nl.back() != '\n') nl += '\n';
        if (lines[idx0] != nl) { lines[idx0] = nl; r.changed = true; }
    } else if (s.backrefs) {
        // nothing: without a match there is nothing to expand
    } else if ((ib && *ib == "BOF") || (ia && *ia == "BOF")) {
        lines.insert(lines.begin(), line + "\n");
        r.changed = true;
    } else if ((ia && *ia == "EOF") || idx1 == -1) {
        if (!lines.empty() && !ends_nl(lines.back())) lines.push_back("\n");
        lines.push_back(line + "\n");
        r.changed = true;
    } else if (ia && idx1 != -1) {
        if (long(lines.size()) == idx1) {
            if (rstrip_crlf(lines[idx1 - 1]) != line) { lines.push_back(line + "\n"); r.changed = true; }
        } else if (line != rstrip_crlf(lines[idx1])) {
            lines.insert(lines.begin() + idx1, line + "\n");
            r.changed = true;
        }
    } else {
        lines.insert(lines.begin() + idx1, line + "\n");
        r.changed = true;
    }
    for (const auto& l : lines) r.content += l;
    return r;
}

const std::string& lineinfile_perl() {
    // Exit codes: 0 nothing to do, 1 change needed (check), 3 error (message on stderr).
    // The write itself is the shared dc_write (util/atomic_write.cpp).
    static const std::string prog = shell::atomic_write_perl_sub() + R"PL(
my ($mode, $path) = @ARGV;
sub fail { print STDERR "lineinfile: $_[0]\n"; exit 3 }
# Perl's regex engine has no step limit: a pathological pattern ends by SIGALRM (exit 142).
alarm 120;
my ($line, $re, $ss, $ia, $ib) = @ENV{qw(DC_LINE DC_RE DC_SS DC_AFTER DC_BEFORE)};
my $present = $ENV{DC_STATE} eq "present";
my ($backrefs, $first, $create) = map { ($ENV{$_} // "") eq "1" } qw(DC_BACKREFS DC_FIRST DC_CREATE);
$line //= "";
fail("$path is a directory") if -d $path;
my $exists = -e $path;
my @l;
if ($exists) {
  open(my $fh, "<:raw", $path) or fail("cannot read $path: $!");
  local $/ = "\n"; @l = <$fh>; close $fh;
} elsif (!$present) { exit 0 }
elsif (!$create) { fail("$path does not exist (set create: true to create it)") }
sub rx { my $r = eval { qr/$_[0]/ }; fail("bad regular expression $_[0]: $@") unless $r; $r }
sub strip { my $s = shift; $s =~ s/[\r\n]+\z//; $s }
my $bre = defined $re ? rx($re) : undef;
my $changed = 0;
my @n = @l;
if ($present) {
  $ia = "EOF" if !defined $ia && !defined $ib;
  my $bins;
  if (defined $ia && $ia ne "BOF" && $ia ne "EOF") { $bins = rx($ia) }
  elsif (defined $ib && $ib ne "BOF") { $bins = rx($ib) }
  my ($i0, $i1, $match, @caps, %named) = (-1, -1, 0);
  if ($bre) {
    for my $i (0 .. $#l) {
      if ($l[$i] =~ $bre) { $i0 = $i; $match = 1; @caps = ($&, map { $_ // "" } @{^CAPTURE}); %named = %+; last if $first }
    }
  }
  if (defined $ss) {
    for my $i (0 .. $#l) { if (index($l[$i], $ss) >= 0) { $i0 = $i; $match = 1; last if $first } }
  }
  if (!$match) {
    for my $i (0 .. $#l) {
      if ($line eq strip($l[$i])) { $i0 = $i }
      elsif ($bins && $l[$i] =~ $bins) {
        if (defined $ia) { $i1 = $i + 1; last if $first }
        if (defined $ib) { $i1 = $i; last if $first }
      }
    }
  }
  if ($i0 != -1) {
    my $new = $line;
    if ($backrefs && $match) {
      $new =~ s{\\(?:(\d\d?)|g<(\w+)>|(n)|(t)|(\\))}{
        defined $1 ? ($caps[$1] // "") : defined $2 ? ($2 =~ /^\d+$/ ? ($caps[$2] // "") : ($named{$2} // "")) :
        defined $3 ? "\n" : defined $4 ? "\t" : "\\"}ge;
    }
    $new .= "\n" unless $new =~ /\n\z/;
    if ($n[$i0] ne $new) { $n[$i0] = $new; $changed = 1 }
  } elsif ($backrefs) {
  } elsif ((defined $ib && $ib eq "BOF") || (defined $ia && $ia eq "BOF")) {
    unshift @n, "$line\n"; $changed = 1;
  } elsif ((defined $ia && $ia eq "EOF") || $i1 == -1) {
    push @n, "\n" if @n && $n[-1] !~ /[\r\n]\z/;
    push @n, "$line\n"; $changed = 1;
  } elsif (defined $ia) {
    if (@n == $i1) { if (strip($n[$i1 - 1]) ne $line) { push @n, "$line\n"; $changed = 1 } }
    elsif ($line ne strip($n[$i1])) { splice @n, $i1, 0, "$line\n"; $changed = 1 }
  } else {
    splice @n, $i1, 0, "$line\n"; $changed = 1;
  }
} else {
  @n = grep { !(defined $bre ? $_ =~ $bre : defined $ss ? index($_, $ss) >= 0 : $line eq strip($_)) } @l;
  $changed = @n != @l;
}
exit($changed ? 1 : 0) if $mode eq "check";
exit 0 unless $changed;
my $real = $path;
if ($exists) { require Cwd; $real = Cwd::realpath($path) // fail("cannot resolve $path") }
(my $dir = $real) =~ s{/[^/]*\z}{};
$dir = "/" if $dir eq "";
if (!-d $dir) { require File::Path; File::Path::make_path($dir) or fail("cannot create $dir") }
my @attrs = map { $ENV{$_} // "" } qw(DC_MODE DC_OWNER DC_GROUP);
my @validate = map { $ENV{"DC_V$_"} } 0 .. ($ENV{DC_VN} // 0) - 1;
eval { dc_write($real, sub { print { $_[0] } @n or die "cannot write: $!\n" }, @attrs, \@validate); 1 }
  or fail($@ =~ s/\n\z//r);
exit 0;
)PL";
    return prog;
}

constexpr const char* kGaveUp =
    "lineinfile: gave up after 120 s (a regular expression too expensive for this file?)";

Action plan_lineinfile(const std::string&, const Value& args) {
    Args a(args);
    const std::string key = a.which({"path", "dest", "destfile", "name"});
    if (key.empty()) throw ArgError("path", "is required");
    const std::string path = a.required_str(key);
    require_absolute_path(key, path);
    if (a.flag("backup", false)) throw ArgError("backup", "backup: true is not supported");
    LineinfileSpec s;
    s.present = a.choice("state", {"present", "absent"}, "present") == "present";
    const std::string line_key = a.has("line") ? "line" : "value";
    s.line = a.str(line_key);
    const std::string re_key = a.has("regexp") ? "regexp" : "regex";
    s.regexp = a.str(re_key);
    s.search_string = a.str("search_string");
    s.insertafter = a.str("insertafter");
    s.insertbefore = a.str("insertbefore");
    s.backrefs = a.flag("backrefs", false);
    s.firstmatch = a.flag("firstmatch", false);
    s.create = a.flag("create", false);
    if (s.insertafter && s.insertbefore)
        throw ArgError("insertbefore", "give either insertafter or insertbefore, not both");
    if (s.regexp && s.search_string) throw ArgError("search_string", "give either regexp or search_string, not both");
    if (s.backrefs && s.search_string) throw ArgError("backrefs", "does not work with search_string");
    if (s.regexp && s.regexp->empty())
        throw ArgError(re_key, "an empty regexp matches every line; use '^' if you mean that");
    if (s.search_string && s.search_string->empty())
        throw ArgError("search_string", "an empty search_string matches every line");
    for (const auto* k : {"insertafter", "insertbefore"})
        if (auto v = a.str(k); v && v->empty()) throw ArgError(k, "expected a regexp, BOF or EOF");
    if (s.present) {
        if (!s.line) throw ArgError("line", "is required with state=present");
        if (s.backrefs && !s.regexp) throw ArgError("backrefs", "needs regexp");
    } else if (!s.line && !s.regexp && !s.search_string) {
        throw ArgError("line", "one of line, regexp or search_string is required with state=absent");
    }
    if (s.line) require_no_newline(line_key, *s.line);
    // Regexes are compiled now with PCRE2 (Perl's dialect): a bad one is an argument error
    // at load time rather than a failed probe on every host.
    for (const auto& [k, v] : {std::pair{re_key, s.regexp}, {std::string("insertafter"), s.insertafter},
                               {std::string("insertbefore"), s.insertbefore}}) {
        if (!v || ((k == "insertafter" || k == "insertbefore") && (*v == "BOF" || *v == "EOF"))) continue;
        try {
            util::Regex check(*v);
        } catch (const Error& e) {
            throw ArgError(k, e.what());
        }
    }
    const FileAttrs at = read_attrs(a);
    // validate: split as Ansible splits it (shlex, no shell), run on the new file before it
    // replaces the old one.
    std::vector<std::string> validate;
    if (auto v = a.str("validate")) {
        if (v->find("%s") == std::string::npos)
            throw ArgError("validate", "must contain %s (the file to check)");
        validate = shlex_split(*v);
    }

    std::string env;
    auto add_env = [&](const char* name, const std::optional<std::string>& v) {
        if (v) env += std::string(name) + "=" + shell::quote(*v) + " ";
    };
    add_env("DC_STATE", std::string(s.present ? "present" : "absent"));
    add_env("DC_LINE", s.line);
    add_env("DC_RE", s.regexp);
    add_env("DC_SS", s.search_string);
    add_env("DC_AFTER", s.insertafter);
    add_env("DC_BEFORE", s.insertbefore);
    if (s.backrefs) env += "DC_BACKREFS=1 ";
    if (s.firstmatch) env += "DC_FIRST=1 ";
    if (s.create) env += "DC_CREATE=1 ";
    add_env("DC_MODE", at.mode);
    add_env("DC_OWNER", at.owner);
    add_env("DC_GROUP", at.group);
    for (size_t i = 0; i < validate.size(); ++i) add_env(("DC_V" + std::to_string(i)).c_str(), validate[i]);
    if (!validate.empty()) env += "DC_VN=" + std::to_string(validate.size()) + " ";
    const std::string perl = env + "perl -e " + shell::quote(lineinfile_perl());

    std::vector<std::string> probe{"p=" + shell::quote(path),
                                   "command -v perl >/dev/null 2>&1 || { echo 'lineinfile: perl not found' >&2; exit 2; }",
                                   perl + " check \"$p\"", "rc=$?",
                                   "[ $rc -eq 142 ] && echo " + shell::quote(kGaveUp) + " >&2",
                                   "[ $rc -eq 0 ] || { [ $rc -eq 1 ] && exit 1; exit 2; }"};
    if (!at.empty()) {
        probe.push_back("[ -e \"$p\" ] || exit 0");
        for (auto& l : at.probe_lines("p")) probe.push_back(l);
    }
    Action act;
    if (!at.empty()) act.stat_paths.push_back(path);
    act.probe = subshell(probe);
    std::vector<std::string> change{"p=" + shell::quote(path), perl + " apply \"$p\" || { [ $? -eq 142 ] && echo " + shell::quote(kGaveUp) + " >&2; exit 2; }"};
    if (!at.empty()) {
        change.push_back("[ -e \"$p\" ] || exit 0");
        for (auto& l : at.fix_lines("p")) change.push_back(l + " || exit 2");
    }
    act.change = subshell(change);
    act.diff_path = path;
    act.current_cmd = "if [ -f " + shell::quote(path) + " ]; then cat -- " + shell::quote(path) + "; fi";
    // May throw Error (a pattern too expensive on this content): the engine shows
    // it in place of the diff.
    act.desired = [s](const std::string& current) { return lineinfile_apply(current, s).content; };
    const std::string what = s.line ? "'" + *s.line + "'"
                             : s.regexp ? "/" + *s.regexp + "/" : "'" + *s.search_string + "'";
    act.summary = "line " + what + (s.present ? " in " : " not in ") + path;
    act.ok_reason = s.present ? path + " already has the line" : path + " has no matching line";
    act.change_text = std::string(s.present ? "+ " : "- ") + what + " (" + path + ")";
    return act;
}

}  // namespace decamp::modules
