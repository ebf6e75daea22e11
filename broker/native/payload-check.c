#define _GNU_SOURCE
/*
 * Checks an agent's JSON payload against a schema program (broker/native-payload-check.ts compiles
 * one from a zod schema) without building any JavaScript value: the broker's answer to "would
 * JSON.parse + the schema accept these bytes?" for the common case, at a fraction of the cost.
 *
 * The answer is one-sided by design. 1 means certainly valid: JSON.parse of the UTF-8 text succeeds
 * and the zod schema accepts the value. 0 means "not shown valid here": invalid, or outside the
 * subset this checker reads (any byte >= 0x80, any backslash escape, a known key given twice,
 * nesting deeper than MAX_DEPTH, a number longer than 63 characters); the caller then asks
 * JSON.parse and zod, which decide and give the error message. So a payload is never refused here,
 * and everything accepted here is accepted by the schema (test/broker/native-payload-check.test.ts).
 *
 * Program: a Float64Array of nodes (integers are exact in doubles), each starting with its kind:
 *   OBJECT   1, nkeys, then per key: keyStart, keyLength (into the keys bytes), child, optional
 *   ARRAY    2, minLength (-1: none), maxLength (-1: none), child
 *   NUMBER   3, nchecks, then per check: kind (1 safe integer, 2 greater than, 3 less than), value, inclusive
 *   STRING   4, minLength (-1), maxLength (-1), format (0 none, 1 zod's default ISO datetime)
 *   NULLABLE 5, child
 *   BOOLEAN  6
 * Objects strip unknown keys (zod's default), so an unknown key's value need only be valid JSON.
 */
#ifndef PAYLOAD_CHECK_CORE_ONLY
#include <node_api.h>
#endif
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_KEYS 64

enum { K_OBJECT = 1, K_ARRAY = 2, K_NUMBER = 3, K_STRING = 4, K_NULLABLE = 5, K_BOOLEAN = 6 };

typedef struct {
  const double *prog;
  /* The program's integers (kinds, counts, indexes, key offsets) as ints, read on every value. */
  const int32_t *ints;
  size_t progLength;
  const uint8_t *keys;
  size_t keysLength;
} Schema;

typedef struct {
  const uint8_t *p;
  const uint8_t *end;
} Cursor;

static locale_t c_locale;

/* Bytes that may stand in a string as they are: printable ASCII but '"' and '\\'. */
static uint8_t plain[256];

static inline void ws(Cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static inline int literal(Cursor *c, const char *word, size_t n) {
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
  c->p += n;
  return 1;
}

/* A string of printable ASCII without escapes; sets its bytes. 0 for anything else. */
static int string(Cursor *c, const uint8_t **start, size_t *length) {
  if (c->p >= c->end || *c->p != '"') return 0;
  const uint8_t *s = ++c->p;
  const uint8_t *p = s, *end = c->end;
  while (p < end && plain[*p]) p++;
  c->p = p;
  // Stopped at the closing quote, or at an escape, a control character, a byte >= 0x80, the end.
  if (p >= end || *p != '"') return 0;
  *start = s;
  *length = (size_t)(p - s);
  c->p++;
  return 1;
}

static inline int digit(const uint8_t *p, const uint8_t *end) { return p < end && *p >= '0' && *p <= '9'; }

/* A number in JSON's grammar; sets its text. */
static int number_text(Cursor *c, const uint8_t **start, size_t *length) {
  const uint8_t *s = c->p;
  if (c->p < c->end && *c->p == '-') c->p++;
  if (!digit(c->p, c->end)) return 0;
  if (*c->p == '0') c->p++;
  else
    while (digit(c->p, c->end)) c->p++;
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    if (!digit(c->p, c->end)) return 0;
    while (digit(c->p, c->end)) c->p++;
  }
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
    c->p++;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
    if (!digit(c->p, c->end)) return 0;
    while (digit(c->p, c->end)) c->p++;
  }
  *start = s;
  *length = (size_t)(c->p - s);
  return 1;
}

/*
 * After a member of an object or an element of an array: 1 when another follows (the comma read),
 * 2 when the container closes with `close` (read), 0 for anything else.
 */
static inline int next_member(Cursor *c, uint8_t close) {
  ws(c);
  if (c->p < c->end && *c->p == ',') {
    c->p++;
    ws(c);
    return 1;
  }
  if (c->p < c->end && *c->p == close) {
    c->p++;
    return 2;
  }
  return 0;
}

/* An object's `"key":` with the whitespace around it; sets the key's bytes. */
static inline int member_key(Cursor *c, const uint8_t **key, size_t *length) {
  if (!string(c, key, length)) return 0;
  ws(c);
  if (c->p >= c->end || *c->p != ':') return 0;
  c->p++;
  ws(c);
  return 1;
}

/* Opens a container: 1 when it has members, 2 when it is empty (closed), 0 when it is not `open`. */
static inline int open_container(Cursor *c, uint8_t open, uint8_t close) {
  if (c->p >= c->end || *c->p != open) return 0;
  c->p++;
  ws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    return 2;
  }
  return 1;
}

/* Any JSON value in the subset (an unknown key's, which the schema strips). */
static int skip(Cursor *c, int depth) {
  if (depth > MAX_DEPTH || c->p >= c->end) return 0;
  const uint8_t *s;
  size_t n;
  int state;
  switch (*c->p) {
    case '{':
      state = open_container(c, '{', '}');
      while (state == 1) {
        if (!member_key(c, &s, &n) || !skip(c, depth + 1)) return 0;
        state = next_member(c, '}');
      }
      return state == 2;
    case '[':
      state = open_container(c, '[', ']');
      while (state == 1) {
        if (!skip(c, depth + 1)) return 0;
        state = next_member(c, ']');
      }
      return state == 2;
    case '"':
      return string(c, &s, &n);
    case 't':
      return literal(c, "true", 4);
    case 'f':
      return literal(c, "false", 5);
    case 'n':
      return literal(c, "null", 4);
    default:
      return number_text(c, &s, &n);
  }
}

static inline int d(uint8_t b) { return b >= '0' && b <= '9'; }
static inline int two(const uint8_t *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

/*
 * zod's default ISO datetime (z.iso.datetime(): UTC "Z" only, any fraction digits), the regex
 * ^(?:DATE)T(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z))$ where DATE is YYYY-MM-DD with the
 * day within the month and 02-29 only in Gregorian leap years. The compiler passes format 1 only
 * when the schema's regex is exactly that one.
 */
static int iso_datetime(const uint8_t *s, size_t n) {
  if (n < 20) return 0;
  for (int i = 0; i < 4; i++)
    if (!d(s[i])) return 0;
  if (s[4] != '-' || !d(s[5]) || !d(s[6]) || s[7] != '-' || !d(s[8]) || !d(s[9]) || s[10] != 'T') return 0;
  int month = two(s + 5), day = two(s + 8);
  int century = two(s), yy = two(s + 2);
  int leap = yy == 0 ? century % 4 == 0 : yy % 4 == 0;
  int days;
  switch (month) {
    case 1: case 3: case 5: case 7: case 8: case 10: case 12: days = 31; break;
    case 4: case 6: case 9: case 11: days = 30; break;
    case 2: days = leap ? 29 : 28; break;
    default: return 0;
  }
  if (day < 1 || day > days) return 0;
  if (!d(s[11]) || !d(s[12]) || two(s + 11) > 23 || s[13] != ':') return 0;
  if (!d(s[14]) || !d(s[15]) || s[14] > '5' || s[16] != ':') return 0;
  if (!d(s[17]) || !d(s[18]) || s[17] > '5') return 0;
  size_t i = 19;
  if (s[i] == '.') {
    i++;
    if (i >= n || !d(s[i])) return 0;
    while (i < n && d(s[i])) i++;
  }
  return i + 1 == n && s[i] == 'Z';
}

static int value(const Schema *schema, size_t node, Cursor *c, int depth);

static int object(const Schema *schema, size_t node, Cursor *c, int depth) {
  const int32_t *ints = schema->ints;
  size_t nkeys = (size_t)ints[node + 1];
  uint64_t seen = 0;
  int state = open_container(c, '{', '}');
  while (state == 1) {
    const uint8_t *key;
    size_t keyLength;
    if (!member_key(c, &key, &keyLength)) return 0;
    size_t k = 0;
    for (; k < nkeys; k++) {
      const int32_t *entry = ints + node + 2 + 4 * k;
      if ((size_t)entry[1] != keyLength) continue;
      const uint8_t *known = schema->keys + entry[0];
      size_t i = 0;
      while (i < keyLength && known[i] == key[i]) i++;
      if (i == keyLength) break;
    }
    if (k < nkeys) {
      // JSON.parse keeps the last of duplicate keys; which one that is, is the slow path's business.
      if (seen & (1ull << k)) return 0;
      seen |= 1ull << k;
      if (!value(schema, (size_t)ints[node + 2 + 4 * k + 2], c, depth + 1)) return 0;
    } else if (!skip(c, depth + 1)) return 0;
    state = next_member(c, '}');
  }
  if (state != 2) return 0;
  for (size_t k = 0; k < nkeys; k++)
    if (!(seen & (1ull << k)) && ints[node + 2 + 4 * k + 3] == 0) return 0;
  return 1;
}

static int array(const Schema *schema, size_t node, Cursor *c, int depth) {
  double minLength = schema->prog[node + 1], maxLength = schema->prog[node + 2];
  size_t child = (size_t)schema->ints[node + 3];
  double count = 0;
  int state = open_container(c, '[', ']');
  while (state == 1) {
    if (!value(schema, child, c, depth + 1)) return 0;
    count++;
    state = next_member(c, ']');
  }
  return state == 2 && (minLength < 0 || count >= minLength) && (maxLength < 0 || count <= maxLength);
}

/*
 * The common numbers without strtod (0.6 µs for a 16-digit timestamp here): integers up to 2^53, and
 * decimals of at most 15 significant digits without an exponent, whose digits are an exact double as
 * is 10^(fraction digits) ≤ 10^22; one IEEE division of two exact values is correctly rounded, which
 * is what JSON.parse gives (Clinger's fast path). 0 for anything else.
 */
static int exact_decimal(const uint8_t *s, size_t n, double *out) {
  static const double powers[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
  size_t i = 0;
  int negative = s[0] == '-';
  if (negative) i++;
  uint64_t mantissa = 0;
  int digits = 0, fraction = -1;
  for (; i < n; i++) {
    uint8_t b = s[i];
    if (b == '.') fraction = 0;
    else if (b >= '0' && b <= '9') {
      mantissa = mantissa * 10 + (b - '0');
      if (mantissa) digits++;
      if (fraction >= 0) fraction++;
      // An integer is exact up to 2^53 (19 digits cannot overflow the accumulator); a fraction's
      // digits, up to 15.
      if (digits > (fraction >= 0 ? 15 : 19) || fraction > 22) return 0;
    } else return 0; /* an exponent */
  }
  if (mantissa > (1ull << 53)) return 0;
  double x = (double)mantissa;
  if (fraction > 0) x /= powers[fraction];
  *out = negative ? -x : x;
  return 1;
}

static int number(const Schema *schema, size_t node, Cursor *c) {
  const uint8_t *text;
  size_t length;
  if (!number_text(c, &text, &length) || length > 63) return 0;
  double x;
  if (!exact_decimal(text, length, &x)) {
    char copy[64];
    memcpy(copy, text, length);
    copy[length] = 0;
    // Correctly rounded in glibc, as V8's JSON.parse; the C locale, whatever the process's is.
    x = strtod_l(copy, NULL, c_locale);
  }
  if (!isfinite(x)) return 0;
  const double *prog = schema->prog;
  size_t nchecks = (size_t)schema->ints[node + 1];
  for (size_t i = 0; i < nchecks; i++) {
    const double *check = prog + node + 2 + 3 * i;
    double bound = check[1];
    int inclusive = check[2] != 0;
    switch ((int)check[0]) {
      case 1:
        if (x != trunc(x) || fabs(x) > 9007199254740991.0) return 0;
        break;
      case 2:
        if (!(inclusive ? x >= bound : x > bound)) return 0;
        break;
      case 3:
        if (!(inclusive ? x <= bound : x < bound)) return 0;
        break;
      default:
        return 0;
    }
  }
  return 1;
}

static int value(const Schema *schema, size_t node, Cursor *c, int depth) {
  if (depth > MAX_DEPTH || node >= schema->progLength || c->p >= c->end) return 0;
  const double *prog = schema->prog;
  switch (schema->ints[node]) {
    case K_OBJECT:
      return object(schema, node, c, depth);
    case K_ARRAY:
      return array(schema, node, c, depth);
    case K_NUMBER:
      return number(schema, node, c);
    case K_STRING: {
      const uint8_t *s;
      size_t n;
      if (!string(c, &s, &n)) return 0;
      // ASCII only (string() says so): code points, zod's measure, are bytes.
      double minLength = prog[node + 1], maxLength = prog[node + 2];
      if ((minLength >= 0 && (double)n < minLength) || (maxLength >= 0 && (double)n > maxLength)) return 0;
      if (schema->ints[node + 3] == 1 && !iso_datetime(s, n)) return 0;
      return 1;
    }
    case K_NULLABLE:
      if (literal(c, "null", 4)) return 1;
      return value(schema, (size_t)schema->ints[node + 1], c, depth);
    case K_BOOLEAN:
      return literal(c, "true", 4) || literal(c, "false", 5);
    default:
      return 0;
  }
}

/* Whether the program is well formed from `node` down: every node and key inside its arrays. */
static int verify(const Schema *schema, size_t node, int depth) {
  if (depth > MAX_DEPTH || node >= schema->progLength) return 0;
  const int32_t *ints = schema->ints;
  size_t left = schema->progLength - node;
  switch (ints[node]) {
    case K_OBJECT: {
      if (left < 2 || ints[node + 1] < 0 || ints[node + 1] > MAX_KEYS || left < 2 + 4 * (size_t)ints[node + 1]) return 0;
      for (size_t k = 0; k < (size_t)ints[node + 1]; k++) {
        const int32_t *entry = ints + node + 2 + 4 * k;
        if (entry[0] < 0 || entry[1] < 0 || (size_t)entry[0] + (size_t)entry[1] > schema->keysLength) return 0;
        if (!verify(schema, (size_t)entry[2], depth + 1)) return 0;
      }
      return 1;
    }
    case K_ARRAY:
      return left >= 4 && verify(schema, (size_t)ints[node + 3], depth + 1);
    case K_NUMBER:
      return left >= 2 && ints[node + 1] >= 0 && left >= 2 + 3 * (size_t)ints[node + 1];
    case K_STRING:
      return left >= 4;
    case K_NULLABLE:
      return left >= 2 && verify(schema, (size_t)ints[node + 1], depth + 1);
    case K_BOOLEAN:
      return 1;
    default:
      return 0;
  }
}

/* The byte table and the C locale, once per process (idempotent: every thread's load calls it). */
static void setup(void) {
  if (!c_locale) c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  for (int b = 0x20; b < 0x80; b++) plain[b] = b != '"' && b != '\\';
}

static void schema_free(Schema *schema) {
  free((void *)schema->prog);
  free((void *)schema->ints);
  free((void *)schema->keys);
  free(schema);
}

enum { SCHEMA_OK = 0, SCHEMA_NO_MEMORY = 1, SCHEMA_MALFORMED = 2 };

/* A schema from a program and its key bytes, both copied (the caller's arrays may be reused). */
static int schema_new(const double *prog, size_t progLength, const uint8_t *keys, size_t keysLength, Schema **out) {
  Schema *schema = malloc(sizeof(Schema));
  double *progCopy = malloc(progLength * sizeof(double) + 1);
  int32_t *ints = malloc(progLength * sizeof(int32_t) + 1);
  uint8_t *keysCopy = malloc(keysLength + 1);
  if (!schema || !progCopy || !ints || !keysCopy) {
    free(schema), free(progCopy), free(ints), free(keysCopy);
    return SCHEMA_NO_MEMORY;
  }
  memcpy(progCopy, prog, progLength * sizeof(double));
  // Bounds are doubles; everything read as an integer is one (the compiler writes no others there),
  // and clamping keeps a stray value from becoming undefined behaviour.
  for (size_t i = 0; i < progLength; i++) ints[i] = progCopy[i] >= -1 && progCopy[i] <= 2147483647.0 ? (int32_t)progCopy[i] : -1;
  memcpy(keysCopy, keys, keysLength);
  *schema = (Schema){ progCopy, ints, progLength, keysCopy, keysLength };
  // The checker trusts the program's indexes as it reads untrusted bytes: they are checked once here.
  if (!verify(schema, 0, 0)) {
    schema_free(schema);
    return SCHEMA_MALFORMED;
  }
  *out = schema;
  return SCHEMA_OK;
}

/* 1 when `bytes` are certainly a valid payload of `schema` (see the top), else 0. */
static int check_bytes(const Schema *schema, const uint8_t *bytes, size_t length) {
  Cursor c = { bytes, bytes + length };
  ws(&c);
  if (!value(schema, 0, &c, 0)) return 0;
  ws(&c);
  return c.p == c.end;
}

#ifndef PAYLOAD_CHECK_CORE_ONLY /* payload-check-fuzz.c includes the checker without N-API */

static void release(napi_env env, void *data, void *hint) { schema_free(data); }

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok || type != want) return 0;
  return 1;
}

/* compile(program: Float64Array, keys: Uint8Array) → the schema, copied (the arrays may be reused). */
static napi_value js_compile(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *prog, *keys;
  size_t progLength, keysLength;
  if (argc < 2 || !typed(env, argv[0], napi_float64_array, &prog, &progLength) || !typed(env, argv[1], napi_uint8_array, &keys, &keysLength)) {
    napi_throw_type_error(env, NULL, "compile(program: Float64Array, keys: Uint8Array)");
    return NULL;
  }
  Schema *schema;
  switch (schema_new(prog, progLength, keys, keysLength, &schema)) {
    case SCHEMA_NO_MEMORY:
      napi_throw_error(env, NULL, "out of memory");
      return NULL;
    case SCHEMA_MALFORMED:
      napi_throw_range_error(env, NULL, "compile: malformed schema program");
      return NULL;
  }
  napi_create_external(env, schema, release, NULL, &result);
  return result;
}

/* check(schema, payload: Uint8Array) → true when the payload is certainly valid (see the top). */
static napi_value js_check(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Schema *schema = NULL;
  void *bytes;
  size_t length;
  if (argc < 2 || napi_get_value_external(env, argv[0], (void **)&schema) != napi_ok || !typed(env, argv[1], napi_uint8_array, &bytes, &length)) {
    napi_throw_type_error(env, NULL, "check(schema, payload: Uint8Array)");
    return NULL;
  }
  napi_get_boolean(env, check_bytes(schema, bytes, length), &result);
  return result;
}

NAPI_MODULE_INIT() {
  setup();
  napi_value fn;
  napi_create_function(env, "compile", NAPI_AUTO_LENGTH, js_compile, NULL, &fn);
  napi_set_named_property(env, exports, "compile", fn);
  napi_create_function(env, "check", NAPI_AUTO_LENGTH, js_check, NULL, &fn);
  napi_set_named_property(env, exports, "check", fn);
  return exports;
}

#endif
