#include "playbook/task_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace decamp::playbook {

namespace {

const char* kind_problem(mode_t m) {
    if (S_ISREG(m)) return nullptr;
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "is a FIFO";
    if (S_ISCHR(m) || S_ISBLK(m)) return "is a device";
    if (S_ISSOCK(m)) return "is a socket";
    return "is not a regular file";
}

// Opens `p` for reading if it is a regular file: stat first (a device is never opened, its
// open may have effects), then O_NONBLOCK (a FIFO swapped in meanwhile cannot block us) and
// fstat again. Returns the fd, or -1 with `why` set.
int open_regular(const std::filesystem::path& p, std::string& why) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        why = errno == ENOENT ? "does not exist" : std::strerror(errno);
        return -1;
    }
    if (const char* k = kind_problem(st.st_mode)) {
        why = k;
        return -1;
    }
    int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        why = std::strerror(errno);
        return -1;
    }
    if (::fstat(fd, &st) != 0 || kind_problem(st.st_mode)) {
        why = kind_problem(st.st_mode) ? kind_problem(st.st_mode) : std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

std::filesystem::path resolve_task_file(const std::filesystem::path& playbook_dir,
                                        const std::string& module, const std::string& src) {
    std::filesystem::path p(src);
    if (!p.is_relative()) return p;
    const char* sub = module == "template" ? "templates" : "files";
    std::filesystem::path a = playbook_dir / sub / p;
    std::error_code ec;
    return std::filesystem::exists(std::filesystem::symlink_status(a, ec)) ? a : playbook_dir / p;
}

std::filesystem::path resolve_task_file(const Task& task, const std::string& src) {
    namespace fs = std::filesystem;
    fs::path p(src);
    if (!p.is_relative()) return p;
    const char* sub = task.module == "template" ? "templates" : "files";
    std::vector<fs::path> candidates;
    if (!task.role_dir.empty()) {
        candidates.push_back(task.role_dir / sub / p);
        candidates.push_back(task.role_dir / p);
        candidates.push_back(task.role_dir / "tasks" / p);
    }
    if (!task.file_dir.empty() && task.file_dir != task.dir) {
        candidates.push_back(task.file_dir / sub / p);
        candidates.push_back(task.file_dir / p);
        candidates.push_back(task.file_dir.parent_path() / sub / p);
    }
    candidates.push_back(task.dir / sub / p);
    candidates.push_back(task.dir / p);
    std::error_code ec;
    for (const auto& c : candidates)
        if (fs::exists(fs::symlink_status(c, ec))) return c;
    // Nothing exists: the place Ansible looks first, for the message.
    return task.role_dir.empty() ? resolve_task_file(task.dir, task.module, src) : candidates.front();
}

std::string task_file_problem(const std::filesystem::path& p) {
    std::string why;
    int fd = open_regular(p, why);
    if (fd >= 0) ::close(fd);
    return why;
}

std::string read_task_file(const std::filesystem::path& p) {
    std::string why;
    int fd = open_regular(p, why);
    if (fd < 0) throw std::runtime_error(why);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, size_t(n));
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            why = std::strerror(errno);
            ::close(fd);
            throw std::runtime_error(why);
        }
    }
    ::close(fd);
    return out;
}

}  // namespace decamp::playbook
