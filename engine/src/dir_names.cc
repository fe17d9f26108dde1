#include "dir_names.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vouch {

int ListDirectoryNames(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return errno;
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

}  // namespace vouch
