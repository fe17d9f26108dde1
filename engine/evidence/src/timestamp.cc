#include "vouch/evidence/timestamp.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "files.h"
#include "vouch/hashing/sha256.h"

namespace vouch::evidence {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Req = std::unique_ptr<TS_REQ, Deleter<TS_REQ, TS_REQ_free>>;
using Resp = std::unique_ptr<TS_RESP, Deleter<TS_RESP, TS_RESP_free>>;
using VerifyCtx = std::unique_ptr<TS_VERIFY_CTX, Deleter<TS_VERIFY_CTX, TS_VERIFY_CTX_free>>;

// A TimeStampReq (DER) for SHA-256 `digest`, with a nonce and the
// authority's certificate asked for.
Result<std::string> Request(const Sha256Digest& digest) {
  Req req(TS_REQ_new());
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* algo = X509_ALGOR_new();
  ASN1_INTEGER* nonce = ASN1_INTEGER_new();
  uint64_t n = 0;
  bool ok = req && imprint && algo && nonce && RAND_bytes(reinterpret_cast<unsigned char*>(&n), sizeof n) == 1 &&
            X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) == 1 &&
            TS_MSG_IMPRINT_set_algo(imprint, algo) == 1 &&
            TS_MSG_IMPRINT_set_msg(imprint, const_cast<unsigned char*>(digest.data()),
                                   static_cast<int>(digest.size())) == 1 &&
            TS_REQ_set_version(req.get(), 1) == 1 && TS_REQ_set_msg_imprint(req.get(), imprint) == 1 &&
            ASN1_INTEGER_set_uint64(nonce, n >> 1) == 1 && TS_REQ_set_nonce(req.get(), nonce) == 1 &&
            TS_REQ_set_cert_req(req.get(), 1) == 1;
  X509_ALGOR_free(algo);  // the setters copied them
  TS_MSG_IMPRINT_free(imprint);
  ASN1_INTEGER_free(nonce);
  if (!ok) return IoError("cannot make a timestamp request: " + SslError());
  unsigned char* der = nullptr;
  const int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) return IoError("cannot encode a timestamp request: " + SslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// POSTs `body` to an http:// URL; the response's body.
Result<std::string> HttpPost(const std::string& url, const std::string& body) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return InvalidArgument("--tsa-url " + url + ": expected http://host[:port]/path");
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = rest.substr(0, slash), port = "80";
  if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return ConnectionError("--tsa-url " + url + ": cannot resolve " + host);
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return ConnectionError("--tsa-url " + url + ": cannot connect");
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string request =
      "POST " + path + " HTTP/1.0\r\nHost: " + host +
      "\r\nContent-Type: application/timestamp-query\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[8192];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<size_t>(n));
  close(fd);
  if (sent < request.size()) return ConnectionError("--tsa-url " + url + ": the request could not be sent");
  const size_t end = response.find("\r\n\r\n");
  const std::string status = response.substr(0, response.find("\r\n"));
  if (end == std::string::npos || status.find(" 200") == std::string::npos) {
    return ConnectionError("--tsa-url " + url + ": the authority answered '" + status + "'");
  }
  return response.substr(end + 4);
}

}  // namespace

Result<std::string> TimestampBytes(const std::string& data, const std::string& url) {
  auto req = Request(Sha256Of(data));
  if (!req.ok()) return req.status();
  auto body = HttpPost(url, *req);
  if (!body.ok()) return body.status();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(body->data());
  Resp resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(body->size())));
  if (!resp) return Corrupt("--tsa-url " + url + ": the answer is not a timestamp response");
  const ASN1_INTEGER* st = TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp.get()));
  const long status = ASN1_INTEGER_get(st);
  if ((status != 0 && status != 1) || TS_RESP_get_token(resp.get()) == nullptr) {
    return Corrupt("--tsa-url " + url + ": the authority did not grant a timestamp (status " + std::to_string(status) +
                   ")");
  }
  return body;
}

Status TimestampFile(const std::string& path, const std::string& url) {
  auto data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  auto token = TimestampBytes(*data, url);
  if (!token.ok()) return token.status();
  return ReplaceFile(path + ".tsr", *token, "the timestamp");
}

Status VerifyTimestamp(const std::string& data, const std::string& token, const std::string& ca_file,
                       std::string* time) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(token.data());
  Resp resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(token.size())));
  if (!resp) return Corrupt("not a timestamp response");
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr || X509_STORE_load_file(store, ca_file.c_str()) != 1) {
    X509_STORE_free(store);
    return InvalidArgument(ca_file + ": cannot read CA certificates: " + SslError());
  }
  VerifyCtx ctx(TS_VERIFY_CTX_new());
  BIO* bio = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_SIGNER | TS_VFY_DATA);
  TS_VERIFY_CTX_set_data(ctx.get(), bio);  // the context owns both from here
  TS_VERIFY_CTX_set_store(ctx.get(), store);
  if (TS_RESP_verify_response(ctx.get(), resp.get()) != 1) {
    return Corrupt("the timestamp does not hold for these bytes and this CA: " + SslError());
  }
  const ASN1_GENERALIZEDTIME* t = TS_TST_INFO_get_time(TS_RESP_get_tst_info(resp.get()));
  std::tm tm{};
  if (t != nullptr && ASN1_TIME_to_tm(t, &tm) == 1) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    *time = buf;
  }
  return Status::Ok();
}

}  // namespace vouch::evidence
