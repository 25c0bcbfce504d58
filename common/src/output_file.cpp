#include "proclab/output_file.hpp"

#include "proclab/child.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

namespace proclab {

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
    struct stat link {
    }, target{};
    const bool exists = ::lstat(path_.c_str(), &link) == 0;
    if (exists && (S_ISLNK(link.st_mode) || !S_ISREG(link.st_mode))) {
        const bool regular = ::stat(path_.c_str(), &target) == 0 && S_ISREG(target.st_mode);
        fd_ = UniqueFd(::open(path_.c_str(), O_WRONLY | O_CLOEXEC | (regular ? O_TRUNC : 0)));
        if (!fd_) error_ = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
        return;
    }
    temp_ = fmt::format("{}.tmp-{}", path_, ::getpid());
    fd_ = UniqueFd(::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd_) {
        error_ = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
        return;
    }
    cleanup::track_path(temp_);
}

OutputFile::~OutputFile() {
    if (fd_ && !temp_.empty()) {
        ::unlink(temp_.c_str());
        cleanup::untrack_path(temp_);
    }
}

void OutputFile::commit(const std::string& text) {
    write_all(fd_.get(), text.data(), text.size());
    fd_.reset();
    if (temp_.empty()) return;  // written in place
    const int renamed = ::rename(temp_.c_str(), path_.c_str());
    const int err = errno;
    if (renamed != 0) ::unlink(temp_.c_str());
    cleanup::untrack_path(temp_);
    if (renamed != 0) throw HarnessError(err, "rename " + temp_);
}

bool names_stdout(const std::string& path) {
    struct stat named {
    }, out{};
    return !path.empty() && ::stat(path.c_str(), &named) == 0 && ::fstat(STDOUT_FILENO, &out) == 0 &&
           named.st_dev == out.st_dev && named.st_ino == out.st_ino;
}

}  // namespace proclab
