// The schema objects and cluster-wide objects of a database, read with
// set-based catalog queries in the reader's snapshot. Internal to readers/.
#pragma once

#include <libpq-fe.h>

#include <string>

#include "vouch/readers/schema_catalog.h"
#include "vouch/status.h"

namespace vouch {

// Runs in `pg`'s open transaction (its snapshot) with search_path ''; `where`
// names the database in errors. `second`, when not null: a connection in the
// same snapshot (and search_path) that reads half of the objects meanwhile.
Status ReadLiveSchema(PGconn* pg, PGconn* second, const std::string& where, SchemaCatalog* out);

}  // namespace vouch
