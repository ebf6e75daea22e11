/*
 * Memory-safety harness for payload-check.c, built by test/broker/native-payload-check-memory.test.ts
 * with AddressSanitizer and UndefinedBehaviorSanitizer: random byte edits of a valid payload (inserted,
 * deleted, replaced bytes, truncations), each checked from an exact-size heap copy so that a read one
 * byte past the end is reported. Arguments: program file (float64s), keys file, payload file, runs,
 * seed. Prints "runs N accepted M" and exits 0, or the sanitizer reports and exits non-zero.
 */
#define PAYLOAD_CHECK_CORE_ONLY
#include "payload-check.c"
#include <stdio.h>

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
  setup();
  Schema *schema;
  if (schema_new((const double *)program, programBytes / sizeof(double), keys, keysLength, &schema) != SCHEMA_OK) return fprintf(stderr, "malformed program\n"), 2;

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
    int ok = check_bytes(schema, exact, length);
    accepted += ok;
    free(exact);
  }
  printf("runs %ld accepted %ld\n", runs, accepted);
  schema_free(schema);
  free(work), free(program), free(keys), free(base);
  return 0;
}
