// pgBackRest's repository files (docs/formats.md "pgBackRest repositories"):
// backup.info, archive.info and each backup set's backup.manifest. All three
// are INI text, "[section]" lines and "key=value" lines whose value is JSON,
// sealed by [backrest] backrest-checksum: the SHA-1 of the content written
// as one JSON object, sections and keys in file order, values as they
// stand. The parsers are strict: a line that is neither, a value that is not
// JSON, a checksum that does not match or a key a set needs that is absent
// is Corrupt, naming the file and line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/readers/byte_source.h"
#include "vouch/status.h"

namespace vouch {

struct PgbrIniValue {
  std::string key, json;  // the value's JSON text as written
  size_t line = 0;
};
struct PgbrIniSection {
  std::string name;
  std::vector<PgbrIniValue> values;
  size_t line = 0;
};
struct PgbrIni {
  std::vector<PgbrIniSection> sections;
  std::string checksum;  // [backrest] backrest-checksum, 40 hex digits
  const PgbrIniSection* Find(std::string_view name) const;
};

// Parses and checks the seal. `path` names the file in messages. A file that
// starts with OpenSSL's "Salted__" is an encrypted repository's: an error
// (NotSupported) saying so.
Result<PgbrIni> ParsePgbrIni(std::string_view text, const std::string& path);

// The cluster a repository's sets or WAL belong to (db-id N of its history).
struct PgbrDb {
  uint32_t id = 0;
  uint64_t system_id = 0;
  std::string version;  // "15"
};

// One set of [backup:current].
struct PgbrSet {
  std::string label;                        // 20240101-120000F, ...F_20240102-120000D, ...I
  std::string type;                         // "full", "diff", "incr"
  std::string prior;                        // the set it builds on ("" for a full)
  std::string archive_start, archive_stop;  // WAL segment names
  std::string lsn_start, lsn_stop;          // "0/15000028"
  uint32_t db_id = 0;
  bool error = false;  // backup-error: pgBackRest found page errors
  // backup-timestamp-start/-stop (unix seconds), backup-info-size (the
  // cluster's bytes) and backup-info-repo-size (what the repository holds
  // of the set and its references); 0 when not written.
  int64_t timestamp_start = 0, timestamp_stop = 0;
  uint64_t size = 0, repo_size = 0;
};

// The clusters backup.info and archive.info both name: [db] and
// [db:history].
struct PgbrClusters {
  PgbrDb current;
  std::vector<PgbrDb> history;
  // [cipher] cipher-pass of an encrypted repository: backup.info's opens the
  // sets' manifests, archive.info's the WAL. "" when not encrypted.
  std::string cipher_pass;
  const PgbrDb* Db(uint32_t id) const;
};

struct PgbrBackupInfo : PgbrClusters {
  std::vector<PgbrSet> sets;  // oldest first
};
Result<PgbrBackupInfo> ParsePgbrBackupInfo(std::string_view text, const std::string& path);

using PgbrArchiveInfo = PgbrClusters;
Result<PgbrArchiveInfo> ParsePgbrArchiveInfo(std::string_view text, const std::string& path);

// A file of a set, as [target:file] lists it.
struct PgbrFile {
  std::string path;           // "pg_data/base/1/1259"
  uint64_t size = 0;          // its size in the cluster
  std::string checksum;       // SHA-1 hex of its content ("" for an empty file pgBackRest did not store)
  std::string repo_checksum;  // "rck": SHA-1 hex of its bytes in the repository (2.45+; "" when absent)
  std::optional<uint64_t> repo_size;
  std::string reference;                             // the set that stores it, when not this one
  std::optional<uint64_t> bundle_id, bundle_offset;  // repo-bundle: in bundle/ID at this offset
  bool checksum_page = false;                        // pgBackRest checked its pages
  size_t line = 0;                                   // in the manifest
};

// A set's manifest: the set's own fields as backup.info has them (db_id
// and error aside), and its files.
struct PgbrManifest : PgbrSet {
  std::string compress_type;            // "none", "gz", "lz4", "zst", "bz2"
  bool bundle = false;                  // option-bundle
  PgbrDb db;                            // [backup:db]
  std::vector<std::string> references;  // backup-reference: the sets its files are in
  std::vector<PgbrFile> files;          // in manifest order
  std::string cipher_pass;              // [cipher]: opens the set's files ("" when not encrypted)
};
// Block-incremental sets (block maps, "bims") are refused as NotSupported.
Result<PgbrManifest> ParsePgbrManifest(std::string_view text, const std::string& path);

// An encrypted repository's files (repo-cipher-type=aes-256-cbc): OpenSSL's
// "Salted__" and an 8-byte salt, then AES-256-CBC with the key and IV
// EVP_BytesToKey derives from the passphrase and salt (SHA-1, one round),
// PKCS#7 padding. True when `head` starts so.
bool PgbrEncrypted(std::string_view head);
// The decrypted stream of `inner`; a wrong passphrase or damaged data is
// an error of Read (IoError: the passphrase, Corrupt: the data).
std::unique_ptr<ByteSource> MakePgbrDecipher(std::unique_ptr<ByteSource> inner, std::string passphrase,
                                             std::string name);
// A small file (an info file or manifest) decrypted whole.
Result<std::string> PgbrDecrypt(std::string_view bytes, const std::string& passphrase, const std::string& path);

// The repository file suffix of a compress type: ".gz", "" for none.
std::string PgbrCompressSuffix(std::string_view type);

}  // namespace vouch
