// Listing a directory for the backup checks (internal).
#pragma once

#include <string>
#include <vector>

namespace vouch {

// The entry names of directory `dir`, without "." and "..", sorted bytewise.
// Returns 0, or the errno of a failed opendir or readdir (names then empty).
int ListDirectoryNames(const std::string& dir, std::vector<std::string>* names);

// The same for an open directory; dir_fd stays open, and the caller's.
int ListDirectoryNames(int dir_fd, std::vector<std::string>* names);

}  // namespace vouch
