// The manifest: vouch's JSON record of a digest run, which later runs read
// back as a source (compare yesterday's manifest with today's dump). Loading
// verifies that every table's buckets add up to its sum, that the content
// hashes and the final hash recompute, so an edited manifest is rejected.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "vouch/status.h"

namespace vouch {

struct DigestReport;  // vouch/engine/digest_pipeline.h

// Version 5: a schema object's fingerprint that an earlier object has is
// written as that object's index, a table of one bucket has no bucket_count,
// partition ancestors are [schema, name] pairs, and lines are not indented
// (a few hundred bytes a small table, its schema objects included).
// Version 4: a table of one bucket lists no buckets.
// Version 3: sequences (state and definition fingerprint), large objects
// and the schema objects' fingerprints ("schema"; docs/digest-format.md).
// Version 2: table digests sized by their rows. Versions 1 to 4 are still
// read (1's digests folded down to size; neither tells sequences, large
// objects or a schema).
constexpr int kManifestVersion = 5;

// Writes the manifest piece by piece to `sink` (one table's text at a time).
void WriteManifest(const DigestReport& report, const std::string& vouch_version,
                   const std::function<void(std::string_view)>& sink);
std::string ManifestJson(const DigestReport& report, const std::string& vouch_version);
Result<DigestReport> ParseManifest(const std::string& json_text, const std::string& location);
Result<DigestReport> LoadManifest(const std::string& path);
bool LooksLikeManifest(std::string_view head);

}  // namespace vouch
