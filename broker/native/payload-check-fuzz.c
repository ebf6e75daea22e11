/*
 * Memory-safety harness for payload-check.c, built by test/broker/native-payload-check-memory.test.ts
 * with AddressSanitizer and UndefinedBehaviorSanitizer: random byte edits of a valid payload (inserted,
 * deleted, replaced bytes, truncations), each checked from an exact-size heap copy so that a read one
 * byte past the end is reported. Arguments: program file (float64s), keys file, payload file, runs,
 * seed. Prints "runs N accepted M" and exits 0, or the sanitizer reports and exits non-zero.
 */
#include "payload-check.c"
#include <stdio.h>

/* The harness calls the checker directly; these N-API functions are only referenced by the js_ wrappers. */
napi_status napi_get_cb_info(napi_env e, napi_callback_info i, size_t *a, napi_value *v, napi_value *t, void **d) { return napi_generic_failure; }
napi_status napi_get_typedarray_info(napi_env e, napi_value v, napi_typedarray_type *t, size_t *l, void **d, napi_value *b, size_t *o) { return napi_generic_failure; }
napi_status napi_throw_type_error(napi_env e, const char *c, const char *m) { return napi_ok; }
napi_status napi_throw_error(napi_env e, const char *c, const char *m) { return napi_ok; }
napi_status napi_throw_range_error(napi_env e, const char *c, const char *m) { return napi_ok; }
napi_status napi_create_external(napi_env e, void *d, napi_finalize f, void *h, napi_value *r) { return napi_ok; }
napi_status napi_get_value_external(napi_env e, napi_value v, void **r) { return napi_generic_failure; }
napi_status napi_get_boolean(napi_env e, bool b, napi_value *r) { return napi_ok; }
napi_status napi_create_function(napi_env e, const char *n, size_t l, napi_callback cb, void *d, napi_value *r) { return napi_ok; }
napi_status napi_set_named_property(napi_env e, napi_value o, const char *n, napi_value v) { return napi_ok; }

static uint8_t *slurp(const char *path, size_t *length) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *bytes = malloc(size > 0 ? (size_t)size : 1);
  *length = fread(bytes, 1, (size_t)size, f);
  fclose(f);
  return bytes;
}

static uint64_t state;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

int main(int argc, char **argv) {
  if (argc != 6) return fprintf(stderr, "usage: %s program keys payload runs seed\n", argv[0]), 2;
  size_t programBytes, keysLength, baseLength;
  uint8_t *program = slurp(argv[1], &programBytes), *keys = slurp(argv[2], &keysLength), *base = slurp(argv[3], &baseLength);
  if (!program || !keys || !base) return fprintf(stderr, "cannot read the inputs\n"), 2;
  long runs = atol(argv[4]);
  state = (uint64_t)atoll(argv[5]) | 1;
  c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  for (int b = 0x20; b < 0x80; b++) plain[b] = b != '"' && b != '\\';
  size_t n = programBytes / sizeof(double);
  const double *prog = (const double *)program;
  int32_t *ints = malloc(n * sizeof(int32_t) + 1);
  for (size_t i = 0; i < n; i++) ints[i] = prog[i] >= -1 && prog[i] <= 2147483647.0 ? (int32_t)prog[i] : -1;
  Schema schema = { prog, ints, n, keys, keysLength };
  if (!verify(&schema, 0, 0)) return fprintf(stderr, "malformed program\n"), 2;

  static const char alphabet[] = "{}[]\",:0123456789.-+eE \t\n\\utrfalsnZT\x01\x7f\x80\xc3\xff";
  long accepted = 0;
  uint8_t *work = malloc(baseLength + 64);
  for (long r = 0; r < runs; r++) {
    size_t length = baseLength;
    memcpy(work, base, baseLength);
    for (int e = 1 + (int)(next() % 4); e > 0; e--) {
      size_t at = next() % (length + 1);
      uint8_t byte = (uint8_t)alphabet[next() % (sizeof alphabet - 1)];
      switch (next() % 8) {
        case 0: case 1: case 2:
          if (length < baseLength + 60) memmove(work + at + 1, work + at, length - at), work[at] = byte, length++;
          break;
        case 3: case 4:
          if (at < length) memmove(work + at, work + at + 1, length - at - 1), length--;
          break;
        case 5: case 6:
          if (at < length) work[at] = byte;
          break;
        default:
          length = at;
      }
    }
    uint8_t *exact = malloc(length ? length : 1);
    memcpy(exact, work, length);
    Cursor c = { exact, exact + length };
    ws(&c);
    int ok = value(&schema, 0, &c, 0);
    if (ok) {
      ws(&c);
      ok = c.p == c.end;
    }
    accepted += ok;
    free(exact);
  }
  printf("runs %ld accepted %ld\n", runs, accepted);
  free(work), free(ints), free(program), free(keys), free(base);
  return 0;
}
