#include "dir_names.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vouch {

namespace {

int ReadNames(DIR* d, std::vector<std::string>* names) {
  names->clear();
  errno = 0;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names->emplace_back(e->d_name);
  }
  const int err = errno;
  closedir(d);
  if (err != 0) {
    names->clear();
    return err;
  }
  std::sort(names->begin(), names->end());
  return 0;
}

}  // namespace

int ListDirectoryNames(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return errno;
  return ReadNames(d, names);
}

int ListDirectoryNames(int dir_fd, std::vector<std::string>* names) {
  names->clear();
  const int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errno;
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    const int err = errno;
    close(fd);
    return err;
  }
  return ReadNames(d, names);
}

}  // namespace vouch
