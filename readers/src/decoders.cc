// Streaming decompressors behind ByteSource: gzip (ISA-L's igzip inflate, with
// gzip header/trailer and CRC-32/ISIZE checked, multi-member files accepted),
// zlib (one stream, Adler-32 checked: the data blocks of custom archives),
// zstd (all frames), lz4 frame format, bzip2 (libbz2, concatenated streams
// accepted, block CRCs checked). Each reports truncation and corruption with
// the compressed and uncompressed byte offsets.
#include <bzlib.h>
#include <isa-l/igzip_lib.h>
#include <lz4frame.h>
#include <zstd.h>

#include <cstring>
#include <vector>

#include "vouch/io_buffer.h"
#include "vouch/readers/byte_source.h"

namespace vouch {
namespace {

// The input buffer starts small and grows while reads fill it: an archive of
// 10,000 small tables opens 10,000 decoders, which must not each clear and
// fill a megabyte.
constexpr size_t kFirstInBuf = 64 << 10;
constexpr size_t kInBuf = 1 << 20;

// Shared input buffering for the decoders: refill from the inner source and
// compute compressed offsets.
class CompressedInput {
 public:
  explicit CompressedInput(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)), buf_(kFirstInBuf) {}
  // Reads more compressed bytes when all were consumed; sets eof() at the end.
  Status Refill(const uint8_t** next, size_t* avail) {
    if (*avail != 0 || eof_) return Status::Ok();
    if (filled_ && buf_.size() < kInBuf) buf_.resize(std::min(buf_.size() * 4, kInBuf));
    auto r = inner_->Read(reinterpret_cast<char*>(buf_.data()), buf_.size());
    if (!r.ok()) return r.status();
    filled_ = *r == buf_.size();
    if (*r == 0) eof_ = true;
    *next = buf_.data();
    *avail = *r;
    return Status::Ok();
  }
  bool eof() const { return eof_; }
  uint64_t Offset(size_t avail) const { return inner_->RawOffset() - avail; }

 private:
  std::unique_ptr<ByteSource> inner_;
  AlignedVector<uint8_t> buf_;
  bool eof_ = false;
  bool filled_ = false;  // the last read filled the buffer
};

std::string Where(const std::string& name, uint64_t raw, uint64_t out) {
  return name + ": at compressed byte offset " + std::to_string(raw) + " (uncompressed offset " + std::to_string(out) +
         ")";
}

class GzipDecoder final : public ByteSource {
 public:
  GzipDecoder(std::unique_ptr<ByteSource> inner, std::string name, bool zlib)
      : in_(std::move(inner)), name_(std::move(name)), zlib_(zlib) {
    ResetMember();
  }

  Result<size_t> Read(char* dst, size_t n) override {
    while (true) {
      const uint8_t* next = st_.next_in;
      size_t avail = st_.avail_in;
      VOUCH_RETURN_IF_ERROR(in_.Refill(&next, &avail));
      st_.next_in = const_cast<uint8_t*>(next);
      st_.avail_in = static_cast<uint32_t>(avail);
      if (st_.block_state == ISAL_BLOCK_FINISH) {
        if (st_.avail_in == 0 && in_.eof()) return size_t{0};
        if (!zlib_ && st_.avail_in >= 1 && st_.next_in[0] == 0x1f) {
          ResetMember();  // another gzip member follows (concatenated .gz files)
          st_.next_in = const_cast<uint8_t*>(next);
          st_.avail_in = static_cast<uint32_t>(avail);
          continue;
        }
        return Corrupt(Where(name_, in_.Offset(st_.avail_in), out_total_) + ": data after the end of the " + Kind() +
                       " stream");
      }
      st_.next_out = reinterpret_cast<uint8_t*>(dst);
      st_.avail_out = static_cast<uint32_t>(std::min<size_t>(n, 1u << 30));
      int ret = isal_inflate(&st_);
      size_t produced = std::min<size_t>(n, 1u << 30) - st_.avail_out;
      if (ret < 0) {
        return Corrupt(Where(name_, in_.Offset(st_.avail_in), out_total_ + produced) + ": " + Kind() + ": " +
                       ErrorText(ret));
      }
      out_total_ += produced;
      if (produced > 0) return produced;
      if (st_.block_state != ISAL_BLOCK_FINISH && st_.avail_in == 0 && in_.eof()) {
        return Truncated(Where(name_, in_.Offset(0), out_total_) + ": " + Kind() +
                         " stream is truncated (ends before its trailer)");
      }
    }
  }
  std::string Describe() const override { return name_ + " (" + Kind() + ")"; }
  uint64_t RawOffset() const override { return in_.Offset(st_.avail_in); }

 private:
  std::string Kind() const { return zlib_ ? "zlib" : "gzip"; }
  void ResetMember() {
    isal_inflate_init(&st_);
    st_.crc_flag = zlib_ ? ISAL_ZLIB : ISAL_GZIP;
  }
  static std::string ErrorText(int ret) {
    switch (ret) {
      case ISAL_INVALID_BLOCK: return "invalid deflate block";
      case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
      case ISAL_INVALID_LOOKBACK: return "invalid deflate back-reference";
      case ISAL_INVALID_WRAPPER: return "invalid stream header";
      case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
      case ISAL_INCORRECT_CHECKSUM: return "checksum or length check failed (corrupt data)";
      default: return "inflate error " + std::to_string(ret);
    }
  }

  CompressedInput in_;
  std::string name_;
  bool zlib_;
  inflate_state st_{};
  uint64_t out_total_ = 0;
};

class ZstdDecoder final : public ByteSource {
 public:
  ZstdDecoder(std::unique_ptr<ByteSource> inner, std::string name)
      : in_(std::move(inner)), name_(std::move(name)), ds_(ZSTD_createDStream()) {
    ZSTD_initDStream(ds_);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(ds_); }

  Result<size_t> Read(char* dst, size_t n) override {
    while (true) {
      if (ib_.pos == ib_.size) {
        const uint8_t* next = nullptr;
        size_t avail = 0;
        VOUCH_RETURN_IF_ERROR(in_.Refill(&next, &avail));
        ib_ = ZSTD_inBuffer{next, avail, 0};
      }
      ZSTD_outBuffer ob{dst, n, 0};
      if (ib_.size == 0 && in_.eof()) {
        // Flush what the decoder still holds, then check the last frame ended.
        size_t r = ZSTD_decompressStream(ds_, &ob, &ib_);
        if (!ZSTD_isError(r) && ob.pos > 0) {
          out_total_ += ob.pos;
          return ob.pos;
        }
        if (pending_ != 0) {
          return Truncated(Where(name_, in_.Offset(0), out_total_) + ": zstd stream is truncated (frame not finished)");
        }
        return size_t{0};
      }
      size_t r = ZSTD_decompressStream(ds_, &ob, &ib_);
      if (ZSTD_isError(r)) {
        return Corrupt(Where(name_, in_.Offset(ib_.size - ib_.pos), out_total_ + ob.pos) +
                       ": zstd: " + ZSTD_getErrorName(r));
      }
      pending_ = r;
      out_total_ += ob.pos;
      if (ob.pos > 0) return ob.pos;
    }
  }
  std::string Describe() const override { return name_ + " (zstd)"; }
  uint64_t RawOffset() const override { return in_.Offset(ib_.size - ib_.pos); }

 private:
  CompressedInput in_;
  std::string name_;
  ZSTD_DStream* ds_;
  ZSTD_inBuffer ib_{nullptr, 0, 0};
  size_t pending_ = 0;  // 0 once the last frame is complete
  uint64_t out_total_ = 0;
};

class Lz4Decoder final : public ByteSource {
 public:
  Lz4Decoder(std::unique_ptr<ByteSource> inner, std::string name) : in_(std::move(inner)), name_(std::move(name)) {
    LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION);
  }
  ~Lz4Decoder() override { LZ4F_freeDecompressionContext(ctx_); }

  Result<size_t> Read(char* dst, size_t n) override {
    while (true) {
      VOUCH_RETURN_IF_ERROR(in_.Refill(&next_, &avail_));
      if (avail_ == 0 && in_.eof()) {
        size_t out = n, src = 0;
        size_t r = LZ4F_decompress(ctx_, dst, &out, nullptr, &src, nullptr);
        if (!LZ4F_isError(r) && out > 0) {
          out_total_ += out;
          return out;
        }
        if (pending_ != 0) {
          return Truncated(Where(name_, in_.Offset(0), out_total_) + ": lz4 stream is truncated (frame not finished)");
        }
        return size_t{0};
      }
      size_t out = n, src = avail_;
      size_t r = LZ4F_decompress(ctx_, dst, &out, next_, &src, nullptr);
      if (LZ4F_isError(r)) {
        return Corrupt(Where(name_, in_.Offset(avail_), out_total_) + ": lz4: " + LZ4F_getErrorName(r));
      }
      next_ += src;
      avail_ -= src;
      pending_ = r;
      out_total_ += out;
      if (out > 0) return out;
    }
  }
  std::string Describe() const override { return name_ + " (lz4)"; }
  uint64_t RawOffset() const override { return in_.Offset(avail_); }

 private:
  CompressedInput in_;
  std::string name_;
  LZ4F_dctx* ctx_ = nullptr;
  const uint8_t* next_ = nullptr;
  size_t avail_ = 0;
  size_t pending_ = 0;
  uint64_t out_total_ = 0;
};

class Bzip2Decoder final : public ByteSource {
 public:
  Bzip2Decoder(std::unique_ptr<ByteSource> inner, std::string name) : in_(std::move(inner)), name_(std::move(name)) {
    Init();
  }
  ~Bzip2Decoder() override {
    if (live_) BZ2_bzDecompressEnd(&st_);
  }

  Result<size_t> Read(char* dst, size_t n) override {
    while (true) {
      VOUCH_RETURN_IF_ERROR(in_.Refill(&next_, &avail_));
      if (ended_) {
        if (avail_ == 0 && in_.eof()) return size_t{0};
        if (next_[0] != 'B') {
          return Corrupt(Where(name_, in_.Offset(avail_), out_total_) + ": data after the end of the bzip2 stream");
        }
        Init();  // another stream follows (pbzip2, concatenated .bz2 files)
      }
      if (avail_ == 0 && in_.eof()) {
        return Truncated(Where(name_, in_.Offset(0), out_total_) + ": bzip2 stream is truncated (ends before its end)");
      }
      st_.next_in = const_cast<char*>(reinterpret_cast<const char*>(next_));
      st_.avail_in = static_cast<unsigned>(std::min<size_t>(avail_, 1u << 30));
      st_.next_out = dst;
      st_.avail_out = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
      const unsigned in_before = st_.avail_in;
      const unsigned out_before = st_.avail_out;
      const int ret = BZ2_bzDecompress(&st_);
      const size_t consumed = in_before - st_.avail_in;
      const size_t produced = out_before - st_.avail_out;
      next_ += consumed;
      avail_ -= consumed;
      if (ret != BZ_OK && ret != BZ_STREAM_END) {
        return Corrupt(Where(name_, in_.Offset(avail_), out_total_ + produced) + ": bzip2: " + ErrorText(ret));
      }
      out_total_ += produced;
      if (ret == BZ_STREAM_END) {
        BZ2_bzDecompressEnd(&st_);
        live_ = false;
        ended_ = true;
      }
      if (produced > 0) return produced;
    }
  }
  std::string Describe() const override { return name_ + " (bzip2)"; }
  uint64_t RawOffset() const override { return in_.Offset(avail_); }

 private:
  void Init() {
    if (live_) BZ2_bzDecompressEnd(&st_);
    st_ = bz_stream{};
    live_ = BZ2_bzDecompressInit(&st_, 0, 0) == BZ_OK;
    ended_ = false;
  }
  static std::string ErrorText(int ret) {
    switch (ret) {
      case BZ_DATA_ERROR: return "data error (a block's CRC or structure is wrong)";
      case BZ_DATA_ERROR_MAGIC: return "not a bzip2 stream (bad magic)";
      case BZ_MEM_ERROR: return "out of memory";
      default: return "decompress error " + std::to_string(ret);
    }
  }

  CompressedInput in_;
  std::string name_;
  bz_stream st_{};
  bool live_ = false;   // st_ initialized
  bool ended_ = false;  // the current stream's end was reached
  const uint8_t* next_ = nullptr;
  size_t avail_ = 0;
  uint64_t out_total_ = 0;
};

}  // namespace

std::unique_ptr<ByteSource> MakeGzipDecoder(std::unique_ptr<ByteSource> inner, std::string name) {
  return std::make_unique<GzipDecoder>(std::move(inner), std::move(name), /*zlib=*/false);
}
std::unique_ptr<ByteSource> MakeZlibDecoder(std::unique_ptr<ByteSource> inner, std::string name) {
  return std::make_unique<GzipDecoder>(std::move(inner), std::move(name), /*zlib=*/true);
}
std::unique_ptr<ByteSource> MakeZstdDecoder(std::unique_ptr<ByteSource> inner, std::string name) {
  return std::make_unique<ZstdDecoder>(std::move(inner), std::move(name));
}
std::unique_ptr<ByteSource> MakeLz4Decoder(std::unique_ptr<ByteSource> inner, std::string name) {
  return std::make_unique<Lz4Decoder>(std::move(inner), std::move(name));
}
std::unique_ptr<ByteSource> MakeBzip2Decoder(std::unique_ptr<ByteSource> inner, std::string name) {
  return std::make_unique<Bzip2Decoder>(std::move(inner), std::move(name));
}

}  // namespace vouch
