// The manifest: vouch's JSON record of a digest run, which later runs read
// back as a source (compare yesterday's manifest with today's dump). Loading
// verifies that every table's buckets add up to its sum, that the content
// hashes and the final hash recompute, so an edited manifest is rejected.
#pragma once

#include <string>
#include <string_view>

#include "vouch/status.h"

namespace vouch {

struct DigestReport;  // vouch/engine/digest_pipeline.h

constexpr int kManifestVersion = 1;

std::string ManifestJson(const DigestReport& report, const std::string& vouch_version);
Result<DigestReport> ParseManifest(const std::string& json_text, const std::string& location);
Result<DigestReport> LoadManifest(const std::string& path);
bool LooksLikeManifest(std::string_view head);

}  // namespace vouch
