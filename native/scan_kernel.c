// keyless scan kernel: the two byte loops the scanner spends its time in, over bytes JavaScript
// already holds (a Buffer view; nothing is copied or kept).
//
//   candidates(buf, start, end, out: Uint32Array) -> count
//     Offsets (relative to start) where a credential may begin: an access-key-id prefix (AKIA, ASIA,
//     ABIA, ACCA); in any letter case "secret" sep? "access"|"key", "session"|"security" sep? "token",
//     "aws" sep? "token"|("access" sep?)? ("key" sep?)? "secret" (sep: one of "_-. "; the names the
//     name rules need); an escaped "A" or a base64 anchor of a key-id prefix (what the decoders
//     need). Every detector match contains one of these, so bytes without a candidate need no
//     further look. At most out.length offsets are written; the return value is the full count
//     (more than out.length means "too many, look at the whole range").
//   countByte(buf, start, end, byte) -> count of that byte (newlines, for line numbers).
//   mapFile(fd, length) -> Buffer over the whole file, mapped read-only: the page cache is read in
//     place with no copy into the process, as ripgrep reads (a copy costs more than the scan here).
//     dropPages(buf, start, end) returns the pages of a scanned range (MADV_DONTNEED), so resident
//     memory stays that of the range being scanned; read again, they come back from the page cache.
//     The mapping goes when the Buffer is collected.
//
// The search classifies the first three bytes of every position at once with nibble tables (BUCKETS
// below), 32 positions per step with AVX2 where the CPU has it, 16 with SSSE3 otherwise, and verifies
// the few positions that pass in scalar code.
#define _GNU_SOURCE
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define KL_X86 1
#endif

static inline int lower(uint8_t c) { return c | 0x20; }

// Case-insensitive match of the lower-case word w at p[i..]; returns its length, or 0.
static inline size_t word(const uint8_t *p, size_t i, size_t n, const char *w) {
  size_t k = 0;
  for (; w[k]; k++)
    if (i + k >= n || lower(p[i + k]) != (uint8_t)w[k]) return 0;
  return k;
}

// A separator people put between the words of a name: aws_secret_access_key, aws-secret-key,
// aws.secretkey, "Secret access key".
static inline size_t sep(const uint8_t *p, size_t j, size_t n) {
  return j < n && (p[j] == '_' || p[j] == '-' || p[j] == '.' || p[j] == ' ') ? 1 : 0;
}

// "secret" sep? ("access" | "key"); ("session" | "security") sep? "token"; "aws" sep? ("token" |
// ("access" sep?)? ("key" sep?)? "secret"), in any letter case: every spelling the name rules accept
// (aws_secret_access_key, SecretAccessKey, AWS_SECRET, aws.secretkey, AWS_ACCESS_KEY_SECRET,
// AWS_SESSION_TOKEN, SecurityToken, aws_token...).
static inline int keyword(const uint8_t *p, size_t i, size_t n) {
  size_t k;
  if ((k = word(p, i, n, "secret"))) {
    size_t j = i + k;
    j += sep(p, j, n);
    return word(p, j, n, "access") || word(p, j, n, "key");
  }
  if ((k = word(p, i, n, "session")) || (k = word(p, i, n, "security"))) {
    size_t j = i + k;
    j += sep(p, j, n);
    return word(p, j, n, "token") != 0;
  }
  if ((k = word(p, i, n, "aws"))) {
    size_t j = i + k;
    j += sep(p, j, n);
    if (word(p, j, n, "token")) return 1;
    // aws_secret; also aws_access_secret, AWS_KEY_SECRET, awsAccessKeySecret
    if ((k = word(p, j, n, "access"))) {
      j += k;
      j += sep(p, j, n);
    }
    if ((k = word(p, j, n, "key"))) {
      j += k;
      j += sep(p, j, n);
    }
    return word(p, j, n, "secret") != 0;
  }
  return 0;
}

// p[i..] equals the literal w (case-sensitive).
static inline int lit(const uint8_t *p, size_t i, size_t n, const char *w) {
  size_t k = strlen(w);
  return i + k <= n && memcmp(p + i, w, k) == 0;
}

// Encoded forms the decoders read (src/scan/decode.ts): an escaped "A", the first letter of every
// key id (JSON \u0041, HTML &#65; &#x41;, URL %41), and "AKIA" / "ASIA" / "ABIA" / "ACCA" in base64
// at each of the three byte alignments (the four characters that do not depend on the bytes around).
static inline int encoded(const uint8_t *p, size_t i, size_t n) {
  switch (p[i]) {
    case '\\':
      return lit(p, i, n, "\\u0041");
    case '&':
      return lit(p, i, n, "&#65;") || lit(p, i, n, "&#x41;") || lit(p, i, n, "&#X41;");
    case '%':
      return lit(p, i, n, "%41");
    case 'Q':
      return lit(p, i, n, "QUtJ") || lit(p, i, n, "QVNJ") || lit(p, i, n, "QUJJ") || lit(p, i, n, "QUND");
    case 'F':
      return lit(p, i, n, "FLSU") || lit(p, i, n, "FTSU") || lit(p, i, n, "FCSU") || lit(p, i, n, "FDQ0");
    case 'B':
      return lit(p, i, n, "BS0l") || lit(p, i, n, "BU0l") || lit(p, i, n, "BQkl") || lit(p, i, n, "BQ0N");
    default:
      return 0;
  }
}

// Verifies a candidate at p[i] (i < n) and returns 1 when it is one.
static inline int verify(const uint8_t *p, size_t i, size_t n) {
  if (p[i] == 'A' && i + 4 <= n &&
      ((memcmp(p + i, "AKIA", 4) == 0) || (memcmp(p + i, "ASIA", 4) == 0) || (memcmp(p + i, "ABIA", 4) == 0) ||
       (memcmp(p + i, "ACCA", 4) == 0)))
    return 1;
  int c = lower(p[i]);
  if ((c == 's' || c == 'a') && keyword(p, i, n)) return 1;
  return encoded(p, i, n);
}

typedef struct {
  uint32_t *out;
  size_t cap;
  size_t count;
} sink_t;

static inline void emit(sink_t *s, size_t at) {
  if (s->count < s->cap) s->out[s->count] = (uint32_t)at;
  s->count++;
}

static void scalar_range(const uint8_t *p, size_t from, size_t n, sink_t *s) {
  for (size_t i = from; i < n; i++) {
    uint8_t c = p[i];
    int l = lower(c);
    if ((l == 's' || l == 'a' || c == '\\' || c == '&' || c == '%' || c == 'Q' || c == 'F' || c == 'B') &&
        verify(p, i, n))
      emit(s, i);
  }
}

#ifdef KL_X86
// The vector filter (as Teddy in Hyperscan / ripgrep): each kind of candidate is a bucket bit; for
// each of the first three bytes of a position, two 16-entry tables indexed by the byte's low and high
// nibble give the buckets that byte may belong to; a position passes when a bucket survives all three.
// The nibble split accepts a few more bytes than listed; verify() decides.
static const char *const BUCKETS[][3] = {
    {"A", "KSBC", "IC"},             // AKIA ASIA ABIA ACCA
    {"sS", "eE", "cCsS"},            // secret, session, security
    {"aA", "wW", "sS"},              // aws
    {"\\&%", "u#4", "06xX1"},        // \u0041 &#65; &#x41; %41
    {"Q", "UV", "tNJ"},              // base64 anchors, alignment 0
    {"F", "LTCD", "SQ"},             // alignment 1
    {"B", "SUQ", "0k"},              // alignment 2
};
static uint8_t lut_lo[3][16], lut_hi[3][16];

static void build_luts(void) {
  static int built = 0;
  if (built) return;
  for (size_t b = 0; b < sizeof(BUCKETS) / sizeof(BUCKETS[0]); b++)
    for (int k = 0; k < 3; k++)
      for (const char *c = BUCKETS[b][k]; *c; c++) {
        lut_lo[k][(uint8_t)*c & 15] |= (uint8_t)(1u << b);
        lut_hi[k][(uint8_t)*c >> 4] |= (uint8_t)(1u << b);
      }
  built = 1;
}

__attribute__((target("avx2"))) static inline __m256i avx2_class(const uint8_t *q, int k) {
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i v = _mm256_loadu_si256((const __m256i *)q);
  __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lut_lo[k]));
  __m256i hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lut_hi[k]));
  return _mm256_and_si256(_mm256_shuffle_epi8(lo, _mm256_and_si256(v, low)),
                          _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
}

__attribute__((target("avx2"))) static size_t avx2_range(const uint8_t *p, size_t n, sink_t *s) {
  size_t i = 0;
  build_luts();
  const __m256i zero = _mm256_setzero_si256();
  for (; i + 32 + 2 <= n; i += 32) {
    __m256i c = _mm256_and_si256(_mm256_and_si256(avx2_class(p + i, 0), avx2_class(p + i + 1, 1)),
                                 avx2_class(p + i + 2, 2));
    uint32_t m = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, zero));
    while (m) {
      unsigned b = (unsigned)__builtin_ctz(m);
      if (verify(p, i + b, n)) emit(s, i + b);
      m &= m - 1;
    }
  }
  return i;
}

__attribute__((target("avx2"))) static size_t avx2_count(const uint8_t *p, size_t n, uint8_t byte) {
  size_t i = 0, total = 0;
  const __m256i B = _mm256_set1_epi8((char)byte), Z = _mm256_setzero_si256();
  while (i + 32 <= n) {
    __m256i acc = Z;
    size_t stop = i + 32 * 255;
    if (stop > n) stop = n;
    for (; i + 32 <= stop; i += 32) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(p + i));
      acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(v, B));
    }
    __m256i sums = _mm256_sad_epu8(acc, Z);
    total += (size_t)_mm256_extract_epi64(sums, 0) + (size_t)_mm256_extract_epi64(sums, 1) +
             (size_t)_mm256_extract_epi64(sums, 2) + (size_t)_mm256_extract_epi64(sums, 3);
  }
  for (; i < n; i++) total += p[i] == byte;
  return total;
}
#endif

#ifdef KL_X86
__attribute__((target("ssse3"))) static inline __m128i sse_class(const uint8_t *q, int k) {
  const __m128i low = _mm_set1_epi8(0x0f);
  __m128i v = _mm_loadu_si128((const __m128i *)q);
  __m128i lo = _mm_loadu_si128((const __m128i *)lut_lo[k]), hi = _mm_loadu_si128((const __m128i *)lut_hi[k]);
  return _mm_and_si128(_mm_shuffle_epi8(lo, _mm_and_si128(v, low)),
                       _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(v, 4), low)));
}

__attribute__((target("ssse3"))) static size_t ssse3_range(const uint8_t *p, size_t n, sink_t *s) {
  size_t i = 0;
  build_luts();
  const __m128i zero = _mm_setzero_si128();
  for (; i + 16 + 2 <= n; i += 16) {
    __m128i c = _mm_and_si128(_mm_and_si128(sse_class(p + i, 0), sse_class(p + i + 1, 1)), sse_class(p + i + 2, 2));
    uint32_t m = ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(c, zero)) & 0xffffu;
    while (m) {
      unsigned b = (unsigned)__builtin_ctz(m);
      if (verify(p, i + b, n)) emit(s, i + b);
      m &= m - 1;
    }
  }
  return i;
}
#endif

// KEYLESS_SCAN_SIMD=ssse3 or =scalar steps down from what the CPU has (the tests run every path).
static int simd_allowed(const char *level) {
  const char *want = getenv("KEYLESS_SCAN_SIMD");
  if (!want || !*want || strcmp(want, "avx2") == 0) return 1;
  if (strcmp(want, "ssse3") == 0) return strcmp(level, "avx2") != 0;
  return 0;
}

static int have_ssse3(void) {
#ifdef KL_X86
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("ssse3") && simd_allowed("ssse3") ? 1 : 0;
  }
  return cached;
#else
  return 0;
#endif
}

static int have_avx2(void) {
#ifdef KL_X86
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx2") && simd_allowed("avx2") ? 1 : 0;
  }
  return cached;
#else
  return 0;
#endif
}

// ---- N-API glue ----

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "KEYLESS_SCAN_KERNEL_ARGS", msg);
  return NULL;
}

// Reads (buf, start, end) into a byte pointer and length; 0 on failure (an exception is pending).
static int range_args(napi_env env, napi_value *argv, const uint8_t **p, size_t *n) {
  void *data;
  size_t len;
  bool is_buf;
  if (napi_is_buffer(env, argv[0], &is_buf) != napi_ok || !is_buf) {
    throw_type(env, "scan kernel: the first argument must be a Buffer");
    return 0;
  }
  napi_get_buffer_info(env, argv[0], &data, &len);
  int64_t start, end;
  if (napi_get_value_int64(env, argv[1], &start) != napi_ok || napi_get_value_int64(env, argv[2], &end) != napi_ok ||
      start < 0 || end < start || (size_t)end > len) {
    throw_type(env, "scan kernel: start/end must satisfy 0 <= start <= end <= buffer length");
    return 0;
  }
  *p = (const uint8_t *)data + start;
  *n = (size_t)(end - start);
  return 1;
}

// Reads `want` arguments into argv, the first three being (buf, start, end), into p and n; 0 when a
// JavaScript exception is pending (usage names the call when arguments are missing).
static int range_call(napi_env env, napi_callback_info info, size_t want, const char *usage, napi_value *argv,
                      const uint8_t **p, size_t *n) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    throw_type(env, usage);
    return 0;
  }
  return range_args(env, argv, p, n);
}

static napi_value js_candidates(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  const uint8_t *p;
  size_t n;
  if (!range_call(env, info, 4, "scan kernel: candidates(buf, start, end, out) takes four arguments", argv, &p, &n))
    return NULL;
  bool is_ta;
  napi_typedarray_type type;
  size_t cap;
  void *out;
  if (napi_is_typedarray(env, argv[3], &is_ta) != napi_ok || !is_ta) return throw_type(env, "scan kernel: out must be a Uint32Array");
  napi_get_typedarray_info(env, argv[3], &type, &cap, &out, NULL, NULL);
  if (type != napi_uint32_array) return throw_type(env, "scan kernel: out must be a Uint32Array");
  sink_t s = {(uint32_t *)out, cap, 0};
  size_t done = 0;
#ifdef KL_X86
  if (have_avx2()) done = avx2_range(p, n, &s);
  else if (have_ssse3()) done = ssse3_range(p, n, &s);
#endif
  scalar_range(p, done, n, &s);
  napi_value result;
  napi_create_double(env, (double)s.count, &result);
  return result;
}

static napi_value js_count_byte(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  const uint8_t *p;
  size_t n;
  if (!range_call(env, info, 4, "scan kernel: countByte(buf, start, end, byte) takes four arguments", argv, &p, &n))
    return NULL;
  uint32_t byte;
  if (napi_get_value_uint32(env, argv[3], &byte) != napi_ok || byte > 255) return throw_type(env, "scan kernel: byte must be 0..255");
  size_t total = 0;
#ifdef KL_X86
  if (have_avx2()) total = avx2_count(p, n, (uint8_t)byte);
  else
#endif
    for (size_t i = 0; i < n; i++) total += p[i] == (uint8_t)byte;
  napi_value result;
  napi_create_double(env, (double)total, &result);
  return result;
}

typedef struct mapping {
  void *base;
  size_t size;
  struct mapping *next;
} mapping_t;

// Live mappings, so dropPages() only ever touches memory mapFile() mapped (one list per thread: a
// worker thread has its own JavaScript and its own mappings).
static _Thread_local mapping_t *live = NULL;

static void unmap_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping_t *m = (mapping_t *)hint;
  for (mapping_t **p = &live; *p; p = &(*p)->next)
    if (*p == m) {
      *p = m->next;
      break;
    }
  munmap(m->base, m->size);
  free(m);
}

static napi_value js_map_file(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  int64_t length;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &length) != napi_ok || fd < 0 || length <= 0)
    return throw_type(env, "scan kernel: mapFile(fd, length) takes a file descriptor and a length > 0");
  void *base = mmap(NULL, (size_t)length, PROT_READ, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED) {
    napi_throw_error(env, "KEYLESS_SCAN_MAP_FAILED", "scan kernel: the file could not be mapped");
    return NULL;
  }
  madvise(base, (size_t)length, MADV_SEQUENTIAL);
  mapping_t *m = (mapping_t *)malloc(sizeof(mapping_t));
  if (!m) {
    munmap(base, (size_t)length);
    napi_throw_error(env, "KEYLESS_SCAN_MAP_FAILED", "scan kernel: out of memory");
    return NULL;
  }
  m->base = base;
  m->size = (size_t)length;
  m->next = live;
  live = m;
  napi_value buf;
  if (napi_create_external_buffer(env, (size_t)length, base, unmap_finalize, m, &buf) != napi_ok) {
    live = m->next;
    munmap(base, (size_t)length);
    free(m);
    napi_throw_error(env, "KEYLESS_SCAN_MAP_FAILED", "scan kernel: this Node.js does not allow external buffers");
    return NULL;
  }
  return buf;
}

static napi_value js_drop_pages(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const uint8_t *p;
  size_t n;
  if (!range_call(env, info, 3, "scan kernel: dropPages(buf, start, end) takes three arguments", argv, &p, &n))
    return NULL;
  mapping_t *m = live;
  while (m && !((const char *)p >= (char *)m->base && (const char *)p + n <= (char *)m->base + m->size)) m = m->next;
  if (!m) return throw_type(env, "scan kernel: dropPages(buf, ...) takes a Buffer from mapFile");
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
  uintptr_t to = ((uintptr_t)p + n) & ~(page - 1);
  if (to > from) madvise((void *)from, to - from, MADV_DONTNEED);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"candidates", NULL, js_candidates, NULL, NULL, NULL, napi_default, NULL},
      {"countByte", NULL, js_count_byte, NULL, NULL, NULL, napi_default, NULL},
      {"mapFile", NULL, js_map_file, NULL, NULL, NULL, napi_default, NULL},
      {"dropPages", NULL, js_drop_pages, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 4, props);
  napi_value simd;
  napi_create_string_utf8(env, have_avx2() ? "avx2" : have_ssse3() ? "ssse3" : "scalar", NAPI_AUTO_LENGTH, &simd);
  napi_set_named_property(env, exports, "simd", simd);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
