#include "vouch/readers/pgbackrest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "vouch/hashing/evp_hash.h"

namespace vouch {
namespace {

using Json = nlohmann::json;

// A JSON string as pgBackRest writes it inside the checksummed object.
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::string At(const std::string& path, size_t line) { return path + ": line " + std::to_string(line) + ": "; }

// The value of key `key` in `section`, parsed; Corrupt when absent or not JSON.
Result<Json> Value(const PgbrIni& ini, std::string_view section, std::string_view key, const std::string& path) {
  const PgbrIniSection* s = ini.Find(section);
  if (s == nullptr) return Corrupt(path + ": no [" + std::string(section) + "] section");
  for (const auto& v : s->values) {
    if (v.key != key) continue;
    Json j = Json::parse(v.json, nullptr, false);
    if (j.is_discarded()) return Corrupt(At(path, v.line) + std::string(key) + ": the value is not JSON");
    return j;
  }
  return Corrupt(At(path, s->line) + "[" + std::string(section) + "] has no " + std::string(key));
}

// A typed member of an object value, or Corrupt naming it.
template <typename T>
Result<T> Member(const Json& j, const char* name, const std::string& where, bool required = true) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (!required) return T{};
    return Corrupt(where + "no \"" + name + "\"");
  }
  try {
    return it->get<T>();
  } catch (const Json::exception&) {
    return Corrupt(where + "\"" + name + "\" has the wrong type");
  }
}

template <typename T>
Result<T> Scalar(const PgbrIni& ini, std::string_view section, std::string_view key, const std::string& path) {
  auto v = Value(ini, section, key, path);
  if (!v.ok()) return v.status();
  try {
    return v->get<T>();
  } catch (const Json::exception&) {
    return Corrupt(path + ": [" + std::string(section) + "] " + std::string(key) + " has the wrong type");
  }
}

Result<PgbrDb> ParseDb(const PgbrIni& ini, std::string_view section, const std::string& path) {
  PgbrDb db;
  auto id = Scalar<uint32_t>(ini, section, "db-id", path);
  if (!id.ok()) return id.status();
  auto sys = Scalar<uint64_t>(ini, section, "db-system-id", path);
  if (!sys.ok()) return sys.status();
  auto version = Scalar<std::string>(ini, section, "db-version", path);
  if (!version.ok()) return version.status();
  return PgbrDb{*id, *sys, *version};
}

// [db:history]: N={"db-system-id":...,"db-version":"15"} (backup.info), or
// N={"db-id":SYSID,"db-version":"15"} (archive.info, where db-id is the
// system identifier).
Result<std::vector<PgbrDb>> ParseHistory(const PgbrIni& ini, const std::string& path, const char* sysid_key) {
  std::vector<PgbrDb> out;
  const PgbrIniSection* s = ini.Find("db:history");
  if (s == nullptr) return Corrupt(path + ": no [db:history] section");
  for (const auto& v : s->values) {
    const std::string where = At(path, v.line) + "db:history " + v.key + ": ";
    Json j = Json::parse(v.json, nullptr, false);
    if (!j.is_object()) return Corrupt(where + "not a JSON object");
    PgbrDb db;
    try {
      db.id = static_cast<uint32_t>(std::stoul(v.key));
    } catch (const std::exception&) {
      return Corrupt(where + "not a number");
    }
    auto sys = Member<uint64_t>(j, sysid_key, where);
    if (!sys.ok()) return sys.status();
    auto version = Member<std::string>(j, "db-version", where);
    if (!version.ok()) return version.status();
    db.system_id = *sys;
    db.version = *version;
    out.push_back(std::move(db));
  }
  return out;
}

// [cipher] cipher-pass, or "" without a [cipher] section.
Result<std::string> CipherPass(const PgbrIni& ini, const std::string& path) {
  if (ini.Find("cipher") == nullptr) return std::string();
  return Scalar<std::string>(ini, "cipher", "cipher-pass", path);
}

// [db] and [db:history] into `out`; `sysid_key`: what [db:history] calls
// the system identifier.
Status ReadClusters(const PgbrIni& ini, const std::string& path, const char* sysid_key, PgbrClusters* out) {
  auto db = ParseDb(ini, "db", path);
  if (!db.ok()) return db.status();
  out->current = *db;
  auto history = ParseHistory(ini, path, sysid_key);
  if (!history.ok()) return history.status();
  out->history = std::move(history).value();
  auto pass = CipherPass(ini, path);
  if (!pass.ok()) return pass.status();
  out->cipher_pass = *pass;
  return Status::Ok();
}

// The fields a set has in backup.info and in its own manifest alike;
// get(key, required) reads one as a string ("" when absent and not
// required). A prior set is required of a differential or incremental set.
template <typename Get>
Status ReadSetFields(Get get, PgbrSet* set) {
  struct Field {
    const char* key;
    std::string PgbrSet::*to;
    bool required;
  };
  for (const Field& f :
       {Field{"backup-type", &PgbrSet::type, true}, Field{"backup-archive-start", &PgbrSet::archive_start, true},
        Field{"backup-archive-stop", &PgbrSet::archive_stop, true},
        Field{"backup-lsn-start", &PgbrSet::lsn_start, true}, Field{"backup-lsn-stop", &PgbrSet::lsn_stop, true}}) {
    auto v = get(f.key, f.required);
    if (!v.ok()) return v.status();
    set->*f.to = std::move(v).value();
  }
  auto prior = get("backup-prior", set->type != "full");
  if (!prior.ok()) return prior.status();
  set->prior = std::move(prior).value();
  return Status::Ok();
}

}  // namespace

const PgbrIniSection* PgbrIni::Find(std::string_view name) const {
  for (const auto& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const PgbrDb* PgbrClusters::Db(uint32_t id) const {
  for (const auto& d : history) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

Result<PgbrIni> ParsePgbrIni(std::string_view text, const std::string& path) {
  if (text.substr(0, 8) == "Salted__") {
    return Unsupported(path + ": encrypted (repo-cipher-type): decrypt it first (PgbrDecrypt)");
  }
  PgbrIni ini;
  size_t line_no = 0, checksum_line = 0;
  bool trailer = false;  // in the closing [backrest] section
  size_t from = 0;
  while (from < text.size()) {
    size_t nl = text.find('\n', from);
    if (nl == std::string_view::npos) {
      return Corrupt(At(path, line_no + 1) + "the file ends without a newline (truncated?)");
    }
    std::string_view line = text.substr(from, nl - from);
    from = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.size() < 3 || line.back() != ']') return Corrupt(At(path, line_no) + "a section line must be [name]");
      std::string name(line.substr(1, line.size() - 2));
      if (trailer) return Corrupt(At(path, line_no) + "a section after the closing [backrest] checksum");
      // pgBackRest writes [backrest] first, and again at the end for its
      // checksum alone (the trailer).
      if (name == "backrest" && ini.Find("backrest") != nullptr) {
        trailer = true;
        continue;
      }
      if (ini.Find(name) != nullptr) return Corrupt(At(path, line_no) + "section [" + name + "] appears twice");
      ini.sections.push_back({name, {}, line_no});
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return Corrupt(At(path, line_no) + "expected key=value");
    if (ini.sections.empty()) return Corrupt(At(path, line_no) + "a value before any section");
    std::string key(line.substr(0, eq));
    std::string value(line.substr(eq + 1));
    if (trailer != (key == "backrest-checksum") || checksum_line != 0) {
      return Corrupt(At(path, line_no) + (trailer ? "the closing [backrest] section holds only backrest-checksum, once"
                                                  : "backrest-checksum outside the closing [backrest] section"));
    }
    if (trailer) {
      Json j = Json::parse(value, nullptr, false);
      if (!j.is_string() || j.get<std::string>().size() != 40) {
        return Corrupt(At(path, line_no) + "backrest-checksum is not a SHA-1 in quotes");
      }
      ini.checksum = j.get<std::string>();
      checksum_line = line_no;
      continue;
    }
    if (!Json::accept(value)) return Corrupt(At(path, line_no) + key + ": the value is not JSON");
    ini.sections.back().values.push_back({std::move(key), std::move(value), line_no});
  }
  if (checksum_line == 0) return Corrupt(path + ": no [backrest] backrest-checksum (truncated?)");
  // The seal: {"section":{"key":value,...},...} in file order.
  std::string sealed = "{";
  bool first_section = true;
  for (const auto& s : ini.sections) {
    if (s.values.empty()) continue;
    if (!first_section) sealed += ',';
    first_section = false;
    AppendJsonString(sealed, s.name);
    sealed += ":{";
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (i > 0) sealed += ',';
      AppendJsonString(sealed, s.values[i].key);
      sealed += ':';
      sealed += s.values[i].json;
    }
    sealed += '}';
  }
  sealed += '}';
  EvpHash sha1(HashAlgorithm::kSha1);
  sha1.Update(sealed);
  const std::string computed = sha1.FinishHex();
  if (computed != ini.checksum) {
    return Corrupt(At(path, checksum_line) + "backrest-checksum " + ini.checksum + " does not match the content (" +
                   computed + "): the file was changed or damaged");
  }
  return ini;
}

Result<PgbrBackupInfo> ParsePgbrBackupInfo(std::string_view text, const std::string& path) {
  auto ini = ParsePgbrIni(text, path);
  if (!ini.ok()) return ini.status();
  PgbrBackupInfo info;
  VOUCH_RETURN_IF_ERROR(ReadClusters(*ini, path, "db-system-id", &info));
  if (const PgbrIniSection* s = ini->Find("backup:current")) {
    for (const auto& v : s->values) {
      const std::string where = At(path, v.line) + v.key + ": ";
      Json j = Json::parse(v.json, nullptr, false);
      if (!j.is_object()) return Corrupt(where + "not a JSON object");
      PgbrSet set;
      set.label = v.key;
      VOUCH_RETURN_IF_ERROR(ReadSetFields(
          [&](const char* key, bool required) { return Member<std::string>(j, key, where, required); }, &set));
      auto id = Member<uint32_t>(j, "db-id", where);
      if (!id.ok()) return id.status();
      auto error = Member<bool>(j, "backup-error", where, false);
      if (!error.ok()) return error.status();
      set.db_id = *id;
      set.error = *error;
      for (auto [key, to] : {std::pair{"backup-timestamp-start", &set.timestamp_start},
                             std::pair{"backup-timestamp-stop", &set.timestamp_stop}}) {
        auto t = Member<int64_t>(j, key, where, false);
        if (!t.ok()) return t.status();
        *to = *t;
      }
      for (auto [key, to] :
           {std::pair{"backup-info-size", &set.size}, std::pair{"backup-info-repo-size", &set.repo_size}}) {
        auto n = Member<uint64_t>(j, key, where, false);
        if (!n.ok()) return n.status();
        *to = *n;
      }
      info.sets.push_back(std::move(set));
    }
  }
  return info;
}

Result<PgbrArchiveInfo> ParsePgbrArchiveInfo(std::string_view text, const std::string& path) {
  auto ini = ParsePgbrIni(text, path);
  if (!ini.ok()) return ini.status();
  PgbrArchiveInfo info;
  VOUCH_RETURN_IF_ERROR(ReadClusters(*ini, path, "db-id", &info));
  return info;
}

Result<PgbrManifest> ParsePgbrManifest(std::string_view text, const std::string& path) {
  auto ini = ParsePgbrIni(text, path);
  if (!ini.ok()) return ini.status();
  PgbrManifest m;
  auto label = Scalar<std::string>(*ini, "backup", "backup-label", path);
  if (!label.ok()) return label.status();
  m.label = *label;
  const PgbrIniSection* backup = ini->Find("backup");
  VOUCH_RETURN_IF_ERROR(ReadSetFields(
      [&](const char* key, bool required) -> Result<std::string> {
        const bool present = backup != nullptr && std::any_of(backup->values.begin(), backup->values.end(),
                                                              [&](const PgbrIniValue& v) { return v.key == key; });
        if (!present && !required) return std::string();
        return Scalar<std::string>(*ini, "backup", key, path);
      },
      &m));
  if (auto refs = Value(*ini, "backup", "backup-reference", path); refs.ok()) {
    // A comma-separated list of labels in a JSON string.
    if (!refs->is_string()) return Corrupt(path + ": backup-reference is not a string");
    const std::string list = refs->get<std::string>();
    for (size_t from = 0; from <= list.size();) {
      size_t comma = list.find(',', from);
      if (comma == std::string::npos) comma = list.size();
      if (comma > from) m.references.push_back(list.substr(from, comma - from));
      from = comma + 1;
    }
  }
  auto compress = Scalar<std::string>(*ini, "backup:option", "option-compress-type", path);
  if (compress.ok()) {
    m.compress_type = *compress;
  } else {
    // Before option-compress-type (2.27): option-compress true meant gzip.
    auto gz = Scalar<bool>(*ini, "backup:option", "option-compress", path);
    if (!gz.ok()) return compress.status();
    m.compress_type = *gz ? "gz" : "none";
  }
  if (PgbrCompressSuffix(m.compress_type).empty() && m.compress_type != "none") {
    return Corrupt(path + ": option-compress-type \"" + m.compress_type + "\" is not one pgBackRest writes");
  }
  if (auto bundle = Scalar<bool>(*ini, "backup:option", "option-bundle", path); bundle.ok()) m.bundle = *bundle;
  auto db = ParseDb(*ini, "backup:db", path);
  if (!db.ok()) return db.status();
  m.db = *db;
  auto pass = CipherPass(*ini, path);
  if (!pass.ok()) return pass.status();
  m.cipher_pass = *pass;
  const PgbrIniSection* files = ini->Find("target:file");
  if (files == nullptr) return Corrupt(path + ": no [target:file] section");
  m.files.reserve(files->values.size());
  for (const auto& v : files->values) {
    const std::string where = At(path, v.line) + v.key + ": ";
    Json j = Json::parse(v.json, nullptr, false);
    if (!j.is_object()) return Corrupt(where + "not a JSON object");
    if (j.contains("bims") || j.contains("bis")) {
      return Unsupported(where + "a block-incremental file (repo-block): vouch does not read block maps yet");
    }
    PgbrFile f;
    f.path = v.key;
    f.line = v.line;
    auto size = Member<uint64_t>(j, "size", where);
    auto checksum = Member<std::string>(j, "checksum", where, false);
    auto rck = Member<std::string>(j, "rck", where, false);
    auto reference = Member<std::string>(j, "reference", where, false);
    auto page = Member<bool>(j, "checksum-page", where, false);
    for (const Status& st : {size.status(), checksum.status(), rck.status(), reference.status(), page.status()}) {
      VOUCH_RETURN_IF_ERROR(st);
    }
    f.size = *size;
    f.checksum = *checksum;
    f.repo_checksum = *rck;
    f.reference = *reference;
    f.checksum_page = *page;
    if (f.size > 0 && f.checksum.size() != 40) return Corrupt(where + "no SHA-1 \"checksum\" for a file of data");
    if (j.contains("repo-size")) {
      auto rs = Member<uint64_t>(j, "repo-size", where);
      if (!rs.ok()) return rs.status();
      f.repo_size = *rs;
    }
    if (j.contains("bni") || j.contains("bno")) {
      auto bni = Member<uint64_t>(j, "bni", where);
      auto bno = Member<uint64_t>(j, "bno", where, false);
      if (!bni.ok()) return bni.status();
      if (!bno.ok()) return bno.status();
      f.bundle_id = *bni;
      f.bundle_offset = *bno;
    }
    m.files.push_back(std::move(f));
  }
  return m;
}

bool PgbrEncrypted(std::string_view head) { return head.substr(0, 8) == "Salted__"; }

namespace {

class Decipher final : public ByteSource {
 public:
  Decipher(std::unique_ptr<ByteSource> inner, std::string pass, std::string name)
      : inner_(std::move(inner)), pass_(std::move(pass)), name_(std::move(name)), ctx_(EVP_CIPHER_CTX_new()) {}
  ~Decipher() override { EVP_CIPHER_CTX_free(ctx_); }

  Result<size_t> Read(char* dst, size_t n) override {
    if (!started_) VOUCH_RETURN_IF_ERROR(Start());
    while (out_pos_ == out_.size()) {
      if (done_) return size_t{0};
      out_.resize(in_.size() + 16);
      auto got = inner_->Read(in_.data(), in_.size());
      if (!got.ok()) return got.status();
      int len = 0;
      if (*got == 0) {
        if (EVP_DecryptFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out_.data()), &len) != 1) {
          return IoError(name_ + ": cannot be decrypted: wrong passphrase, or the file is damaged");
        }
        done_ = true;
      } else if (EVP_DecryptUpdate(ctx_, reinterpret_cast<unsigned char*>(out_.data()), &len,
                                   reinterpret_cast<const unsigned char*>(in_.data()), static_cast<int>(*got)) != 1) {
        return Corrupt(name_ + ": AES-256-CBC decryption failed");
      }
      out_.resize(static_cast<size_t>(len));
      out_pos_ = 0;
    }
    const size_t k = std::min(n, out_.size() - out_pos_);
    std::memcpy(dst, out_.data() + out_pos_, k);
    out_pos_ += k;
    return k;
  }
  std::string Describe() const override { return name_ + " (aes-256-cbc)"; }
  uint64_t RawOffset() const override { return inner_->RawOffset(); }

 private:
  Status Start() {
    started_ = true;
    char head[16];
    size_t have = 0;
    while (have < sizeof head) {
      auto got = inner_->Read(head + have, sizeof head - have);
      if (!got.ok()) return got.status();
      if (*got == 0) break;
      have += *got;
    }
    if (have < sizeof head || !PgbrEncrypted(std::string_view(head, 8))) {
      return Corrupt(name_ + ": not encrypted as the repository's other files (no \"Salted__\" header)");
    }
    unsigned char key[32], iv[16];
    if (EVP_BytesToKey(EVP_aes_256_cbc(), EVP_sha1(), reinterpret_cast<const unsigned char*>(head + 8),
                       reinterpret_cast<const unsigned char*>(pass_.data()), static_cast<int>(pass_.size()), 1, key,
                       iv) != 32 ||
        EVP_DecryptInit_ex(ctx_, EVP_aes_256_cbc(), nullptr, key, iv) != 1) {
      return IoError(name_ + ": cannot set up AES-256-CBC");
    }
    in_.resize(size_t{256} << 10);
    return Status::Ok();
  }

  std::unique_ptr<ByteSource> inner_;
  std::string pass_, name_;
  EVP_CIPHER_CTX* ctx_;
  std::string in_, out_;
  size_t out_pos_ = 0;
  bool started_ = false, done_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> MakePgbrDecipher(std::unique_ptr<ByteSource> inner, std::string passphrase,
                                             std::string name) {
  return std::make_unique<Decipher>(std::move(inner), std::move(passphrase), std::move(name));
}

Result<std::string> PgbrDecrypt(std::string_view bytes, const std::string& passphrase, const std::string& path) {
  auto d = MakePgbrDecipher(MakeMemorySource(std::string(bytes), path), passphrase, path);
  std::string out, buf(size_t{64} << 10, '\0');
  while (true) {
    auto got = d->Read(buf.data(), buf.size());
    if (!got.ok()) return got.status();
    if (*got == 0) return out;
    out.append(buf.data(), *got);
  }
}

std::string PgbrCompressSuffix(std::string_view type) {
  if (type == "gz") return ".gz";
  if (type == "lz4") return ".lz4";
  if (type == "zst") return ".zst";
  if (type == "bz2") return ".bz2";
  return "";
}

}  // namespace vouch
