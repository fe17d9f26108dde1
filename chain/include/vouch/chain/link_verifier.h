// LinkVerifier: recomputes one audit-chain link from its COPY text row and
// compares it with the stored hash. One per chain; Verify is const and
// thread-safe, each thread brings its own Scratch, and once a Scratch has
// grown to the table's widest row no row allocates (OpenSSL 3.0 itself still
// re-creates its digest state inside EVP_DigestInit_ex2).
//
// Continuity between links (prev_hash_i = hash_{i-1}) is order-free and is
// ChainContinuity's job (continuity.h); the verifier only reduces each row to
// a ChainLink of 64-bit fingerprints.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/chain/chain_spec.h"
#include "vouch/status.h"

struct evp_md_st;      // OpenSSL's EVP_MD
struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace vouch {

// One row reduced to what continuity needs.
struct ChainLink {
  int64_t seq = 0;
  // Fingerprints (XXH3-64) of the decoded digest bytes of the hash and
  // prev_hash columns, so equal digests agree whatever their case or
  // encoding. A value that does not decode is fingerprinted from its text
  // (with another seed, so it never equals a decoded digest); NULL has a
  // fingerprint of its own.
  uint64_t hash_fp = 0;
  uint64_t prev_fp = 0;
  bool link_ok = false;  // the recomputed digest equals the stored hash
};

// Appends `pg_text`, a timestamp or timestamptz as COPY text writes it
// (`YYYY-MM-DD HH:MM:SS[.f…][±HH[:MM[:SS]]]`, the fraction 1-6 digits with
// trailing zeros dropped; also 'T' between date and time, 'Z' for +00), to `out`
// converted to UTC and rendered per `r` (kAsStored appends it unchanged). A
// value without an offset is taken as UTC. Returns false, appending nothing,
// for anything else: years outside 1..9999, BC, infinity, a bad field.
bool AppendRenderedTimestamp(std::string_view pg_text, TimestampRendering r, std::string& out);

class LinkVerifier {
 public:
  // `columns`: the table's column names in the order its COPY rows list them;
  // `is_timestamp[i]`: column i is timestamp or timestamptz (re-rendered per
  // spec.timestamps when hashed). InvalidArgument when the spec is invalid,
  // the two vectors differ in length, or a column the spec names is missing
  // (naming it and listing the table's columns).
  static Result<LinkVerifier> Make(const ChainSpec& spec, const std::vector<std::string>& columns,
                                   const std::vector<bool>& is_timestamp);

  // Per-thread working memory, reused across rows; create freely, one per
  // worker, before the first row.
  struct Scratch {
    Scratch();
    ~Scratch();
    Scratch(Scratch&&) noexcept;
    Scratch& operator=(Scratch&&) noexcept;

    std::vector<std::string_view> fields;  // the row's raw fields
    std::string input;                     // the hash input being built
    std::string text;                      // an unescaped field
    std::string bytes;                     // a decoded digest

   private:
    friend class LinkVerifier;
    struct MdCtxFree {
      void operator()(evp_md_ctx_st* c) const;
    };
    std::unique_ptr<evp_md_ctx_st, MdCtxFree> md;  // created on first use
  };

  enum Outcome {
    kOk,               // verified; link->link_ok tells whether the link holds
    kBadSeq,           // seq is NULL or not an integer: *link is not filled
    kNullHash,         // hash is NULL: *link filled, link_ok false
    kBadHashEncoding,  // hash does not decode per spec.encoding to a digest of spec.algorithm's
                       // size: *link filled, link_ok false
    kBadTimestamp,     // a hashed timestamp cannot be rendered: *link filled, link_ok false
    kFieldCount,       // the row has the wrong number of fields: *link is not filled
  };
  // `row`: one COPY text row without its '\n'. Callers count every outcome
  // other than kOk with link_ok as a broken link, and may Add the link to a
  // ChainContinuity for all outcomes that fill it.
  Outcome Verify(std::string_view row, Scratch& scratch, ChainLink* link) const;

  // The stored hash of a row, unescaped (viewing scratch.text or `row`), for
  // reporting the chain's head; empty if the row is malformed or hash NULL.
  std::string_view StoredHash(std::string_view row, Scratch& scratch) const;

  bool HasGenesis() const { return has_genesis_; }
  // The prev fingerprint a first link must carry (ChainLink::prev_fp).
  uint64_t GenesisFingerprint() const { return genesis_fp_; }
  const ChainSpec& spec() const { return spec_; }

 private:
  struct Field {
    size_t column;  // index in COPY order
    bool timestamp;
  };
  LinkVerifier() = default;
  // Fingerprint of a stored digest text (already unescaped); false when it
  // does not decode (then the fingerprint is of the text).
  bool Fingerprint(std::string_view stored, std::string& bytes, uint64_t* fp) const;
  // The unescaped text of a raw field, viewing `raw` when it has no escapes.
  static std::string_view Unescaped(std::string_view raw, std::string& buf);

  ChainSpec spec_;
  size_t ncols_ = 0;
  size_t digest_size_ = 0;
  size_t seq_col_ = 0, prev_col_ = 0, hash_col_ = 0;
  std::vector<Field> fields_;
  std::shared_ptr<evp_md_st> md_;  // fetched once; null for xxh3-128
  bool has_genesis_ = false;
  uint64_t genesis_fp_ = 0;
};

}  // namespace vouch
