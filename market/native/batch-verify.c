/*
 * Batch verification of Ethereum-style ECDSA signatures (r, s, v) against known public keys.
 *
 * Recovering a signer costs one double multiplication per signature. When the signer's key Q is
 * already known (an owner's first order was recovered one by one), `v` fixes the point R whose x is
 * r, and the signature is valid exactly when s·R = z·G + r·Q, i.e. R = (z/s)·G + (r/s)·Q, which is
 * what ecrecover returning Q means. n such equations hold together, except with probability 2^-127,
 * when
 *     Σ aᵢ·Rᵢ − (Σ aᵢ·zᵢ/sᵢ)·G − Σ_keys (Σ_{i of key} aᵢ·rᵢ/sᵢ)·Q = 0
 * for random non-zero 128-bit weights aᵢ: one multi-scalar multiplication instead of n recoveries.
 * The weights come from SHA-256 over a caller's random seed and the whole batch, so a signer cannot
 * pick signatures that cancel each other out.
 *
 * Dividing each equation by sᵢ (one batch inversion for all of them) leaves every Rᵢ with a scalar of
 * 128 bits, which the Pippenger multiplication takes as it is; only G and the keys, whose scalars are
 * full-size, are split in two with the endomorphism. That is n + 2m + 2 terms instead of 2(n + m) + 2.
 *
 * libsecp256k1 is compiled into this unit from the sources the `secp256k1` npm package ships, since
 * the multi-multiplication is internal to the library.
 */
#include "secp256k1.c"
#include <node_api.h>
#include <pthread.h>
#include <string.h>

#ifndef USE_ENDOMORPHISM
#error "batch-verify.c takes 128-bit scalars as Pippenger terms: build with USE_ENDOMORPHISM (scripts/build-native.ts)"
#endif

static secp256k1_context *verify_ctx = NULL;
static pthread_once_t verify_ctx_once = PTHREAD_ONCE_INIT;
/* Built once per process and read-only afterwards, so the worker threads share it. */
static void create_context(void) { verify_ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY); }

/* 1 when Σ scalars[i]·points[i] is the point at infinity, 0 when not, -1 when out of memory. Every
 * scalar must be below 2^128 (WNAF_BITS with the endomorphism). */
static int sum_is_infinity(secp256k1_ge *points, secp256k1_scalar *scalars, size_t terms) {
  /* The library's window table counts points before their split in two. */
  int window = secp256k1_pippenger_bucket_window(terms / 2);
  size_t n_wnaf = WNAF_SIZE(window + 1);
  struct secp256k1_pippenger_state state;
  secp256k1_gej *buckets = (secp256k1_gej *)malloc(sizeof(secp256k1_gej) << window);
  secp256k1_gej sum;
  state.ps = (struct secp256k1_pippenger_point_state *)malloc(terms * sizeof(*state.ps));
  state.wnaf_na = (int *)malloc(terms * n_wnaf * sizeof(int));
  int result = -1;
  if (buckets != NULL && state.ps != NULL && state.wnaf_na != NULL) {
    secp256k1_ecmult_pippenger_wnaf(buckets, window, &state, &sum, scalars, points, terms);
    result = secp256k1_gej_is_infinity(&sum) ? 1 : 0;
  }
  free(buckets);
  free(state.ps);
  free(state.wnaf_na);
  return result;
}

/*
 * Returns 1 when every signature is valid for its key, 0 when at least one is not (or a key is not
 * a curve point), -1 when out of memory. Checks as OpenZeppelin's ECDSA.recover does: v is 27 or 28,
 * 0 < r, s < n and s ≤ n/2.
 */
static int verify_batch(const unsigned char *digests, const unsigned char *signatures, const uint32_t *key_index,
                        const unsigned char *keys, size_t n, size_t m, const unsigned char *seed32) {
  size_t i;
  int result = -1;
  secp256k1_sha256 sha;
  unsigned char seed[32];
  secp256k1_scalar g_scalar, inverse;
  /* Terms: n points Rᵢ, then each key and its λ-multiple, then G and λ·G. */
  size_t terms = n + 2 * m + 2;
  secp256k1_ge *points;
  secp256k1_scalar *scalars, *key_scalars, *s_values, *prefix;
  if (n == 0) return 1; /* nothing to check (and malloc(0) may return NULL) */
  points = (secp256k1_ge *)malloc(terms * sizeof(secp256k1_ge));
  scalars = (secp256k1_scalar *)malloc(terms * sizeof(secp256k1_scalar));
  key_scalars = (secp256k1_scalar *)malloc((m + 1) * sizeof(secp256k1_scalar));
  s_values = (secp256k1_scalar *)malloc(n * sizeof(secp256k1_scalar));
  prefix = (secp256k1_scalar *)malloc(n * sizeof(secp256k1_scalar));
  if (points == NULL || scalars == NULL || key_scalars == NULL || s_values == NULL || prefix == NULL) goto done;

  secp256k1_sha256_initialize(&sha);
  secp256k1_sha256_write(&sha, seed32, 32);
  secp256k1_sha256_write(&sha, digests, n * 32);
  secp256k1_sha256_write(&sha, signatures, n * 65);
  secp256k1_sha256_write(&sha, (const unsigned char *)key_index, n * sizeof(uint32_t));
  secp256k1_sha256_write(&sha, keys, m * 64);
  secp256k1_sha256_finalize(&sha, seed);

  for (i = 0; i < m; i++) {
    secp256k1_fe x, y;
    if (!secp256k1_fe_set_b32(&x, keys + i * 64) || !secp256k1_fe_set_b32(&y, keys + i * 64 + 32)) { result = 0; goto done; }
    secp256k1_ge_set_xy(&points[n + 2 * i], &x, &y);
    if (!secp256k1_ge_is_valid_var(&points[n + 2 * i])) { result = 0; goto done; }
    secp256k1_scalar_clear(&key_scalars[i]);
  }

  /* Range checks, and every sᵢ inverted at once: prefix products, one inversion, and back. */
  for (i = 0; i < n; i++) {
    const unsigned char *sig = signatures + i * 65;
    int overflow = 0;
    unsigned char v = sig[64];
    secp256k1_scalar r;
    if ((v != 27 && v != 28) || key_index[i] >= m) { result = 0; goto done; }
    secp256k1_scalar_set_b32(&r, sig, &overflow);
    if (overflow || secp256k1_scalar_is_zero(&r)) { result = 0; goto done; }
    secp256k1_scalar_set_b32(&s_values[i], sig + 32, &overflow);
    if (overflow || secp256k1_scalar_is_zero(&s_values[i]) || secp256k1_scalar_is_high(&s_values[i])) { result = 0; goto done; }
    if (i == 0) prefix[0] = s_values[0];
    else secp256k1_scalar_mul(&prefix[i], &prefix[i - 1], &s_values[i]);
  }
  secp256k1_scalar_inverse_var(&inverse, &prefix[n - 1]); /* 1 / (s₀·…·sₙ₋₁) */

  secp256k1_scalar_clear(&g_scalar);
  for (i = n; i-- > 0;) {
    const unsigned char *sig = signatures + i * 65;
    secp256k1_scalar r, z, a, s_inverse, t;
    secp256k1_fe rx;
    unsigned char weight[32];
    unsigned char counter[4];
    if (i > 0) {
      secp256k1_scalar_mul(&s_inverse, &inverse, &prefix[i - 1]);
      secp256k1_scalar_mul(&inverse, &inverse, &s_values[i]);
    } else {
      s_inverse = inverse;
    }
    secp256k1_scalar_set_b32(&r, sig, NULL);
    /* r < n < p, so r is a field element as it stands; v − 27 is the parity of R's y. */
    if (!secp256k1_fe_set_b32(&rx, sig) || !secp256k1_ge_set_xo_var(&points[i], &rx, sig[64] - 27)) { result = 0; goto done; }
    secp256k1_scalar_set_b32(&z, digests + i * 32, NULL);

    counter[0] = (unsigned char)(i >> 24); counter[1] = (unsigned char)(i >> 16);
    counter[2] = (unsigned char)(i >> 8); counter[3] = (unsigned char)i;
    secp256k1_sha256_initialize(&sha);
    secp256k1_sha256_write(&sha, seed, 32);
    secp256k1_sha256_write(&sha, counter, 4);
    secp256k1_sha256_finalize(&sha, weight);
    memset(weight, 0, 16); /* a 128-bit weight: the top half zeroed */
    weight[16] |= 0x80;    /* and never zero, which would leave its signature out of the sum */
    secp256k1_scalar_set_b32(&a, weight, NULL);

    scalars[i] = a;                                         /* aᵢ on Rᵢ */
    secp256k1_scalar_mul(&a, &a, &s_inverse);               /* aᵢ/sᵢ */
    secp256k1_scalar_mul(&t, &a, &z);
    secp256k1_scalar_add(&g_scalar, &g_scalar, &t);         /* Σ aᵢ·zᵢ/sᵢ on G */
    secp256k1_scalar_mul(&t, &a, &r);
    secp256k1_scalar_add(&key_scalars[key_index[i]], &key_scalars[key_index[i]], &t); /* Σ aᵢ·rᵢ/sᵢ on Q */
  }
  for (i = 0; i < m; i++) {
    secp256k1_scalar_negate(&scalars[n + 2 * i], &key_scalars[i]);
    secp256k1_ecmult_endo_split(&scalars[n + 2 * i], &scalars[n + 2 * i + 1], &points[n + 2 * i], &points[n + 2 * i + 1]);
  }
  secp256k1_scalar_negate(&scalars[n + 2 * m], &g_scalar);
  points[n + 2 * m] = secp256k1_ge_const_g;
  secp256k1_ecmult_endo_split(&scalars[n + 2 * m], &scalars[n + 2 * m + 1], &points[n + 2 * m], &points[n + 2 * m + 1]);

  result = sum_is_infinity(points, scalars, terms);

done:
  free(points);
  free(scalars);
  free(key_scalars);
  free(s_values);
  free(prefix);
  return result;
}

static int bytes_of(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok) return 0;
  if (type == napi_uint32_array) *length *= 4;
  else if (type != napi_uint8_array) return 0;
  *data = (unsigned char *)raw;
  return 1;
}

/* verifyBatch(digests: Uint8Array n×32, signatures: Uint8Array n×65, keyIndex: Uint32Array n,
 *             keys: Uint8Array m×64 (x ‖ y), seed: Uint8Array 32): boolean */
static napi_value js_verify_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  unsigned char *digests, *signatures, *key_index, *keys, *seed;
  size_t digests_len, signatures_len, key_index_len, keys_len, seed_len, n;
  napi_value out;
  int ok;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5 || !bytes_of(env, argv[0], &digests, &digests_len) || !bytes_of(env, argv[1], &signatures, &signatures_len) ||
      !bytes_of(env, argv[2], &key_index, &key_index_len) || !bytes_of(env, argv[3], &keys, &keys_len) || !bytes_of(env, argv[4], &seed, &seed_len)) {
    napi_throw_type_error(env, NULL, "verifyBatch(digests, signatures, keyIndex, keys, seed) takes typed arrays");
    return NULL;
  }
  n = digests_len / 32;
  if (digests_len % 32 || signatures_len != n * 65 || key_index_len != n * 4 || keys_len % 64 || seed_len != 32 || ((uintptr_t)key_index) % 4) {
    napi_throw_range_error(env, NULL, "verifyBatch: lengths must be n×32, n×65, n (Uint32Array), m×64 and 32 bytes");
    return NULL;
  }
  pthread_once(&verify_ctx_once, create_context);
  ok = verify_batch(digests, signatures, (const uint32_t *)key_index, keys, n, keys_len / 64, seed);
  if (ok < 0) {
    napi_throw_error(env, NULL, "verifyBatch: out of memory");
    return NULL;
  }
  napi_get_boolean(env, ok == 1, &out);
  return out;
}

/*
 * Keccak-256 as Ethereum uses it (the original padding 0x01, not SHA-3's 0x06), for the orders' EIP-712
 * digests: the workers hash a whole batch in one call instead of three WebAssembly calls an order.
 * Keccak-f[1600] (FIPS 202 §3.2) written over constant lane indexes, so the compiler keeps the state in
 * registers; lanes are read little-endian, as the state's bytes are XORed in place.
 */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "keccak256 below XORs bytes into the state's lanes in place: little-endian machines only"
#endif

static const uint64_t KECCAK_RC[24] = {
  0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
  0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
  0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
  0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
  0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
  0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
/* ρ offsets of lane x + 5y, and where π moves it: lane (x, y) goes to (y, 2x + 3y). */
static const int KECCAK_RHO[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};
static const int KECCAK_PI[25] = {0, 10, 20, 5, 15, 16, 1, 11, 21, 6, 7, 17, 2, 12, 22, 23, 8, 18, 3, 13, 14, 24, 9, 19, 4};

static inline uint64_t rotl64(uint64_t x, int n) { return n == 0 ? x : (x << n) | (x >> (64 - n)); }

static void keccak_f1600(uint64_t a[25]) {
  uint64_t b[25], c[5], d[5];
  int round, i;
  for (round = 0; round < 24; round++) {
#pragma GCC unroll 5
    for (i = 0; i < 5; i++) c[i] = a[i] ^ a[i + 5] ^ a[i + 10] ^ a[i + 15] ^ a[i + 20];
#pragma GCC unroll 5
    for (i = 0; i < 5; i++) d[i] = c[(i + 4) % 5] ^ rotl64(c[(i + 1) % 5], 1);
#pragma GCC unroll 25
    for (i = 0; i < 25; i++) b[KECCAK_PI[i]] = rotl64(a[i] ^ d[i % 5], KECCAK_RHO[i]);
#pragma GCC unroll 25
    for (i = 0; i < 25; i++) a[i] = b[i] ^ (~b[(i / 5) * 5 + (i + 1) % 5] & b[(i / 5) * 5 + (i + 2) % 5]);
    a[0] ^= KECCAK_RC[round];
  }
}

static void keccak256(const unsigned char *in, size_t length, unsigned char out[32]) {
  enum { RATE = 136 };
  uint64_t st[25] = {0};
  unsigned char *state = (unsigned char *)st;
  size_t i;
  for (; length >= RATE; in += RATE, length -= RATE) {
    for (i = 0; i < RATE; i++) state[i] ^= in[i];
    keccak_f1600(st);
  }
  for (i = 0; i < length; i++) state[i] ^= in[i];
  state[length] ^= 0x01;
  state[RATE - 1] ^= 0x80;
  keccak_f1600(st);
  memcpy(out, state, 32);
}

/* hashOrders(structs: Uint8Array n×256 (encoded Order structs), prefix: Uint8Array 34 (0x1901 ‖ domain
 * separator)): Uint8Array n×32, each keccak256(prefix ‖ keccak256(struct)), the order's EIP-712 digest. */
static napi_value js_hash_orders(napi_env env, napi_callback_info info) {
  size_t argc = 2, structs_len, prefix_len, n, i;
  napi_value argv[2], buffer, out;
  unsigned char *structs, *prefix, *digests, message[66];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 2 || !bytes_of(env, argv[0], &structs, &structs_len) || !bytes_of(env, argv[1], &prefix, &prefix_len)) {
    napi_throw_type_error(env, NULL, "hashOrders(structs, prefix) takes typed arrays");
    return NULL;
  }
  if (structs_len % 256 || prefix_len != 34) {
    napi_throw_range_error(env, NULL, "hashOrders: lengths must be n×256 and 34 bytes");
    return NULL;
  }
  n = structs_len / 256;
  if (napi_create_arraybuffer(env, n * 32, (void **)&digests, &buffer) != napi_ok) return NULL;
  memcpy(message, prefix, 34);
  for (i = 0; i < n; i++) {
    keccak256(structs + i * 256, 256, message + 34);
    keccak256(message, 66, digests + i * 32);
  }
  napi_create_typedarray(env, napi_uint8_array, n * 32, buffer, 0, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "verifyBatch", NAPI_AUTO_LENGTH, js_verify_batch, NULL, &fn);
  napi_set_named_property(env, exports, "verifyBatch", fn);
  napi_create_function(env, "hashOrders", NAPI_AUTO_LENGTH, js_hash_orders, NULL, &fn);
  napi_set_named_property(env, exports, "hashOrders", fn);
  return exports;
}
