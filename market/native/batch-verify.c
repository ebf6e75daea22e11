/*
 * Batch verification of Ethereum-style ECDSA signatures (r, s, v) against known public keys.
 *
 * Recovering a signer costs one double multiplication per signature. When the signer's key Q is
 * already known (an owner's first order was recovered one by one), `v` fixes the point R whose x is
 * r, and the signature is valid exactly when s·R = z·G + r·Q, which is what ecrecover returning Q
 * means. n such equations hold together, except with probability 2^-128, when
 *     Σ aᵢ·sᵢ·Rᵢ − (Σ aᵢ·zᵢ)·G − Σ_keys (Σ_{i of key} aᵢ·rᵢ)·Q = 0
 * for random 128-bit weights aᵢ: one multi-scalar multiplication (Pippenger/Strauss in libsecp256k1)
 * instead of n recoveries. The weights come from SHA-256 over a caller's random seed and the whole
 * batch, so a signer cannot pick signatures that cancel each other out.
 *
 * libsecp256k1 is compiled into this unit from the sources the `secp256k1` npm package ships, since
 * the multi-multiplication is internal to the library.
 */
#include "secp256k1.c"
#include <node_api.h>
#include <pthread.h>
#include <string.h>

static secp256k1_context *verify_ctx = NULL;
static pthread_once_t verify_ctx_once = PTHREAD_ONCE_INIT;
/* Built once per process and read-only afterwards, so the worker threads share it. */
static void create_context(void) { verify_ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY); }

typedef struct {
  secp256k1_ge *points;
  secp256k1_scalar *scalars;
} multi_data;

static int multi_callback(secp256k1_scalar *sc, secp256k1_ge *pt, size_t idx, void *data) {
  multi_data *d = (multi_data *)data;
  *sc = d->scalars[idx];
  *pt = d->points[idx];
  return 1;
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
  secp256k1_gej sum;
  secp256k1_scalar g_scalar;
  secp256k1_scratch *scratch = NULL;
  multi_data d;
  if (n == 0) return 1; /* nothing to check (and malloc(0) may return NULL) */
  d.points = (secp256k1_ge *)malloc((n + m) * sizeof(secp256k1_ge));
  d.scalars = (secp256k1_scalar *)malloc((n + m) * sizeof(secp256k1_scalar));
  if (d.points == NULL || d.scalars == NULL) goto done;

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
    secp256k1_ge_set_xy(&d.points[n + i], &x, &y);
    if (!secp256k1_ge_is_valid_var(&d.points[n + i])) { result = 0; goto done; }
    secp256k1_scalar_clear(&d.scalars[n + i]);
  }
  secp256k1_scalar_clear(&g_scalar);
  for (i = 0; i < n; i++) {
    const unsigned char *sig = signatures + i * 65;
    secp256k1_scalar r, s, z, a, t;
    secp256k1_fe rx;
    unsigned char weight[32];
    unsigned char counter[4];
    int overflow = 0;
    unsigned char v = sig[64];
    if ((v != 27 && v != 28) || key_index[i] >= m) { result = 0; goto done; }
    secp256k1_scalar_set_b32(&r, sig, &overflow);
    if (overflow || secp256k1_scalar_is_zero(&r)) { result = 0; goto done; }
    secp256k1_scalar_set_b32(&s, sig + 32, &overflow);
    if (overflow || secp256k1_scalar_is_zero(&s) || secp256k1_scalar_is_high(&s)) { result = 0; goto done; }
    /* r < n < p, so r is a field element as it stands; v − 27 is the parity of R's y. */
    if (!secp256k1_fe_set_b32(&rx, sig) || !secp256k1_ge_set_xo_var(&d.points[i], &rx, v - 27)) { result = 0; goto done; }
    secp256k1_scalar_set_b32(&z, digests + i * 32, NULL);

    counter[0] = (unsigned char)(i >> 24); counter[1] = (unsigned char)(i >> 16);
    counter[2] = (unsigned char)(i >> 8); counter[3] = (unsigned char)i;
    secp256k1_sha256_initialize(&sha);
    secp256k1_sha256_write(&sha, seed, 32);
    secp256k1_sha256_write(&sha, counter, 4);
    secp256k1_sha256_finalize(&sha, weight);
    memset(weight, 0, 16); /* a 128-bit weight: the top half zeroed */
    secp256k1_scalar_set_b32(&a, weight, NULL);

    secp256k1_scalar_mul(&d.scalars[i], &a, &s);               /* aᵢ·sᵢ on Rᵢ */
    secp256k1_scalar_mul(&t, &a, &z);
    secp256k1_scalar_add(&g_scalar, &g_scalar, &t);             /* Σ aᵢ·zᵢ on G */
    secp256k1_scalar_mul(&t, &a, &r);
    secp256k1_scalar_add(&d.scalars[n + key_index[i]], &d.scalars[n + key_index[i]], &t); /* Σ aᵢ·rᵢ on Q */
  }
  secp256k1_scalar_negate(&g_scalar, &g_scalar);
  for (i = 0; i < m; i++) secp256k1_scalar_negate(&d.scalars[n + i], &d.scalars[n + i]);

  scratch = secp256k1_scratch_create(&verify_ctx->error_callback, 64 * 1024 + (n + m) * 1024);
  if (scratch == NULL) goto done;
  if (!secp256k1_ecmult_multi_var(&verify_ctx->error_callback, &verify_ctx->ecmult_ctx, scratch, &sum, &g_scalar, multi_callback, &d, n + m)) goto done;
  result = secp256k1_gej_is_infinity(&sum) ? 1 : 0;

done:
  if (scratch != NULL) secp256k1_scratch_destroy(&verify_ctx->error_callback, scratch);
  free(d.points);
  free(d.scalars);
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

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "verifyBatch", NAPI_AUTO_LENGTH, js_verify_batch, NULL, &fn);
  napi_set_named_property(env, exports, "verifyBatch", fn);
  return exports;
}
