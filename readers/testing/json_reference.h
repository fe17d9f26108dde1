// Differential check of vouch::json::ReadJson (readers/src/json_reader.h)
// against nlohmann::json's SAX parser, the reader it replaced for
// backup_manifest: both read the same bytes into a list of events, which
// must be the same. Used by backup_formats_test and fuzz_backup_formats.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "../src/json_reader.h"

namespace vouch::json::testing {

struct Events {
  bool ok = false;
  std::vector<std::string>
      list;  // "{", "}", "[", "]", "k:KEY", "s:STRING", "n:INTEGER", "f:NUMBER", "b:1", "b:0", "0" (null)
  size_t error_offset = 0;  // ReadJson's, when !ok
};

// Integers as nlohmann hands them over (it converts "-0" to 0).
inline std::string IntegerText(std::string_view t) { return t == "-0" ? std::string("0") : std::string(t); }

class Recorder {
 public:
  explicit Recorder(Events* e) : e_(e) {}
  bool null() { return Add("0"); }
  bool boolean(bool v) { return Add(v ? "b:1" : "b:0"); }
  bool string(std::string& s) { return Add("s:" + s); }
  bool key(std::string& s) { return Add("k:" + s); }
  bool number(std::string_view t, bool integer) { return Add(integer ? "n:" + IntegerText(t) : "f:" + std::string(t)); }
  bool start_object() { return Add("{"); }
  bool end_object() { return Add("}"); }
  bool start_array() { return Add("["); }
  bool end_array() { return Add("]"); }
  void parse_error(size_t offset, std::string_view) { e_->error_offset = offset; }

  // nlohmann's SAX interface.
  using Json = nlohmann::json;
  bool number_integer(Json::number_integer_t v) { return Add("n:" + std::to_string(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return Add("n:" + std::to_string(v)); }
  bool number_float(Json::number_float_t, const Json::string_t& s) { return Add("f:" + s); }
  bool binary(Json::binary_t&) { return false; }
  bool start_object(std::size_t) { return start_object(); }
  bool start_array(std::size_t) { return start_array(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  bool Add(std::string s) {
    e_->list.push_back(std::move(s));
    return true;
  }
  Events* e_;
};

inline Events Ours(std::string_view text) {
  Events e;
  Recorder r(&e);
  e.ok = ReadJson(text, r);
  return e;
}

inline Events Nlohmann(std::string_view text) {
  Events e;
  Recorder r(&e);
  e.ok = nlohmann::json::sax_parse(text.begin(), text.end(), &r, nlohmann::detail::input_format_t::json, true);
  return e;
}

// "" when the two agree, else what differs. They agree when both accept
// with the same events, or both reject. One difference is by design:
// nlohmann takes a NUL byte between tokens for the end of the input and
// accepts whatever follows it; ReadJson rejects the NUL.
inline std::string Disagreement(std::string_view text) {
  const Events a = Ours(text), b = Nlohmann(text);
  if (a.ok && b.ok) return a.list == b.list ? "" : "different events";
  if (!a.ok && !b.ok) return "";
  if (!a.ok && a.error_offset < text.size() && text[a.error_offset] == '\0') return "";
  return a.ok ? "ReadJson accepts, nlohmann rejects" : "nlohmann accepts, ReadJson rejects";
}

}  // namespace vouch::json::testing
