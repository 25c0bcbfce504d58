#include "proclab/output_file.hpp"

#include "proclab/child.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace proclab {

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
    temp_ = fmt::format("{}.tmp-{}", path_, ::getpid());
    fd_ = UniqueFd(::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd_) {
        error_ = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
        return;
    }
    cleanup::track_path(temp_);
}

OutputFile::~OutputFile() {
    if (fd_) {
        ::unlink(temp_.c_str());
        cleanup::untrack_path(temp_);
    }
}

void OutputFile::commit(const std::string& text) {
    write_all(fd_.get(), text.data(), text.size());
    fd_.reset();
    const int renamed = ::rename(temp_.c_str(), path_.c_str());
    const int err = errno;
    if (renamed != 0) ::unlink(temp_.c_str());
    cleanup::untrack_path(temp_);
    if (renamed != 0) throw HarnessError(err, "rename " + temp_);
}

}  // namespace proclab
