// One value read from a live database by key: what a later run needs to
// prove that an audit chain still holds an earlier head at its sequence
// number (the ledger's chain anchoring).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vouch/status.h"

namespace vouch {

// The text of `column` (as the server prints it: bytea in hex, "\x...") in
// the row of schema.table whose `key_column` equals `key`; nullopt when no
// row has that key (or its value is NULL).
Result<std::optional<std::string>> ReadValueAt(const std::string& conninfo, const std::string& schema,
                                               const std::string& table, const std::string& key_column, int64_t key,
                                               const std::string& column);

}  // namespace vouch
