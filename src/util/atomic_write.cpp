// The one way decamp replaces a file on a host (declared in util/shell.hpp).
//
// A plain `> "$dir/.decamp.$$.tmp"` lets anyone who can write to the directory plant a
// symlink at the predictable name and have root truncate, chmod and chown any file. So the
// write is a small Perl program (perl-base is Essential on Debian, and lineinfile runs Perl
// anyway) that works on a file descriptor, never on a name someone else can swap:
// - the temp name is random (/dev/urandom) and opened O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600,
//   in the destination's own directory (so the final step is a rename on one filesystem);
// - content, fchown and fchmod go to that descriptor, then fsync, then rename(2) over the
//   destination; afterwards the destination must be the very inode written, or it fails;
// - an existing regular file keeps its mode and owner unless they are given (as Ansible's
//   atomic_move); a symlink at the destination is replaced, not written through; a directory
//   is an error. Parent directories are resolved as the kernel does (a symlinked parent is
//   followed): whoever can change a parent can replace the file anyway.
// Content reaches Perl on stdin followed by a trailer with the producer's exit status, so a
// producer that fails or dies half-way never replaces the file with a truncated one.
#include <string>

#include "util/shell.hpp"

namespace decamp::shell {

namespace {

constexpr const char* kTrailer = "decamp-producer-exit:";

const std::string& writer_program() {
    static const std::string prog = atomic_write_perl_sub() + R"PL(
my ($dest, $mode, $owner, $group, $ok) = @ARGV;
binmode STDIN;
my $data = do { local $/; <STDIN> };
$data = "" unless defined $data;
my $mark = "\n)PL" + std::string(kTrailer) + R"PL(";
my $at = rindex($data, $mark);
if ($at < 0 || substr($data, $at + length $mark) !~ /\A(\d+)\n\z/) {
  print STDERR "decamp: $dest left alone: the content did not arrive whole\n"; exit 3;
}
my $rc = $1;
substr($data, $at) = "";
if (!grep { $_ == $rc } split /,/, $ok) {
  print STDERR "decamp: $dest left alone: producing its content failed (exit $rc)\n"; exit 3;
}
eval { dc_write($dest, sub { print { $_[0] } $data or die "cannot write: $!\n" }, $mode, $owner, $group); 1 }
  or do { print STDERR "decamp: $@"; exit 3 };
exit 0;
)PL";
    return prog;
}

std::string perl_check() {
    return "command -v perl >/dev/null 2>&1 || { echo 'decamp: perl not found (files are written "
           "with it)' >&2; false; }";
}

}  // namespace

const std::string& atomic_write_perl_sub() {
    // dc_write(DEST, FILL, MODE, OWNER, GROUP): FILL->($fh) writes the content to $fh.
    // MODE is octal text or ""; OWNER/GROUP names, numeric ids or "". Dies "message\n".
    static const std::string sub = R"PL(use strict;
use Fcntl qw(O_WRONLY O_CREAT O_EXCL O_NOFOLLOW);
use Errno qw(EEXIST);
use IO::Handle;
sub dc_random {
  my $r = "";
  if (open(my $u, "<:raw", "/dev/urandom")) { read($u, $r, 12); close $u }
  $r = pack("N3", $$, time, int(rand(2**32))) if length($r) != 12;
  return unpack("H*", $r);
}
sub dc_id {
  my ($name, $group) = @_;
  return $name if $name =~ /\A\d+\z/;
  my $id = $group ? getgrnam($name) : getpwnam($name);
  die(($group ? "unknown group" : "unknown user") . " $name\n") unless defined $id;
  return $id;
}
sub dc_write {
  my ($dest, $fill, $mode, $owner, $group, $validate) = @_;
  my $dir = $dest =~ m{\A(.*)/[^/]*\z}s ? ($1 eq "" ? "/" : $1) : ".";
  my @ref = lstat $dest;
  die "$dest is a directory\n" if @ref && -d _;
  my $keep = @ref && -f _;
  my ($fh, $tmp);
  for my $try (1 .. 10) {
    $tmp = "$dir/.decamp." . dc_random() . ".tmp";
    last if sysopen($fh, $tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    die "cannot create a temporary file in $dir: $!\n" if $! != EEXIST || $try == 10;
  }
  my $ok = eval {
    binmode $fh;
    $fill->($fh);
    $fh->flush or die "cannot write $tmp: $!\n";
    my ($uid, $gid) = $keep ? @ref[4, 5] : (-1, -1);
    $uid = dc_id($owner, 0) if $owner ne "";
    $gid = dc_id($group, 1) if $group ne "";
    # Keeping an existing owner is best effort (an unprivileged run cannot); a given one is not.
    if (($uid != -1 || $gid != -1) && !chown($uid, $gid, $fh) && ($owner ne "" || $group ne "")) {
      die "cannot set owner of $dest: $!\n";
    }
    # After chown: chown clears the setuid and setgid bits.
    my $m = $mode ne "" ? oct($mode) : $keep ? $ref[2] & 07777 : 0666 & ~umask;
    chmod($m, $fh) or die "cannot set mode of $dest: $!\n";
    $fh->sync or die "cannot write $tmp: $!\n";
    my @mine = stat $fh;
    close $fh or die "cannot write $tmp: $!\n";
    # Ansible's validate: the command (argv, %s = the new file) must accept it before it
    # replaces the destination; its output goes to stderr, with the step's.
    if ($validate && @$validate) {
      my @cmd = map { (my $w = $_) =~ s/%s/$tmp/g; $w } @$validate;
      open(my $out, ">&", \*STDOUT) or die "cannot dup stdout: $!\n";
      open(STDOUT, ">&", \*STDERR) or die "cannot redirect stdout: $!\n";
      my $rc = system { $cmd[0] } @cmd;
      open(STDOUT, ">&", $out) or die "cannot restore stdout: $!\n";
      die "validation failed: $validate->[0] " . ($rc == -1 ? "could not run: $!" : "exited " . ($? >> 8))
        . " (" . $dest . " left unchanged)\n" if $rc != 0;
    }
    rename($tmp, $dest) or die "cannot rename to $dest: $!\n";
    my @now = lstat $dest;
    die "$dest was replaced by someone else during the write\n"
      unless @now && $now[0] == $mine[0] && $now[1] == $mine[1];
    1;
  };
  if (!$ok) { my $e = $@; unlink $tmp; die $e }
}
)PL";
    return sub;
}

std::string write_output_atomic(const std::string& path, const std::string& producer,
                                const std::string& mode, const std::string& owner,
                                const std::string& group, std::initializer_list<int> ok_codes) {
    std::string ok;
    for (int c : ok_codes) ok += (ok.empty() ? "" : ",") + std::to_string(c);
    if (ok.empty()) ok = "0";
    const std::string trailer = std::string("\\n") + kTrailer + "%s\\n";
    return "{ " + perl_check() + " && { { " + producer + "; }; printf '" + trailer +
           "' \"$?\"; } | perl -e " + quote(writer_program()) + " -- " +
           join({path, mode, owner, group, ok}) + "; }";
}

std::string write_file_atomic(const std::string& path, std::string_view content,
                              const std::string& mode, const std::string& owner,
                              const std::string& group) {
    // Content travels inside the command as base64, so any byte sequence is safe.
    return write_output_atomic(path, "printf '%s' " + quote(base64(content)) + " | base64 -d",
                               mode, owner, group, {0});
}

}  // namespace decamp::shell
