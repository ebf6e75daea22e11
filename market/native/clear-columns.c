/*
 * The columnar clearing engine (market/engine/columnar-clearing.ts) in C, for the million-order
 * interval: the same steps on the same numbers, so the result is the same bit for bit. The
 * TypeScript engine stays the implementation every machine has and the one this file follows line
 * by line; read that one for the rules. Doubles hold the same integers as JavaScript numbers do and
 * every operation on them is the one the TypeScript performs, in the same order.
 *
 * One thing is left to the TypeScript engine: two orders with the same priority key (same price and
 * acceptance sequence, which the service never produces) go by order hash, a string. The caller
 * sends only books whose sequence numbers are all distinct, so keys on one side never tie; a block
 * that still holds a tie returns -1 and the caller clears with the TypeScript engine.
 *
 * Memory: the per-order scratch arrays are kept per thread between calls and only grow, so a clearing
 * every interval does not page in ~80 MB afresh.
 */
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UP 0
#define DOWN 1
#define TIE (-1)
#define NO_MEMORY (-2)

typedef struct {
  const int32_t *pos;
  const double *key;
  int32_t len;
} Run;

typedef struct {
  double key;
  int32_t pos;
} Entry;

/* Grow-only scratch, one set per thread. */
typedef struct {
  void *p;
  size_t bytes;
} Buffer;

static _Thread_local Buffer scratch[24];

static void *take(int slot, size_t bytes) {
  Buffer *b = &scratch[slot];
  if (b->bytes < bytes) {
    size_t grown = bytes + bytes / 4;
    void *p = realloc(b->p, grown ? grown : 1);
    if (!p) return NULL;
    b->p = p;
    b->bytes = grown;
  }
  return b->p;
}

/* Leftover books made by stillOpen: chunks never move, since runs point into them. */
typedef struct Chunk {
  struct Chunk *next;
  size_t used, size;
  int32_t *pos;
  double *key;
} Chunk;

static Chunk *chunk_new(size_t size, Chunk *next) {
  Chunk *c = malloc(sizeof(Chunk));
  if (!c) return NULL;
  c->pos = malloc(size * sizeof(int32_t));
  c->key = malloc(size * sizeof(double));
  if (!c->pos || !c->key) {
    free(c->pos);
    free(c->key);
    free(c);
    return NULL;
  }
  c->next = next;
  c->used = 0;
  c->size = size;
  return c;
}

static void chunks_free(Chunk *c) {
  while (c) {
    Chunk *next = c->next;
    free(c->pos);
    free(c->key);
    free(c);
    c = next;
  }
}

/* Sorts entries by (key, pos): the order the TypeScript engine's widened-key sort gives. */
static inline int before(const Entry *a, const Entry *b) { return a->key < b->key || (a->key == b->key && a->pos < b->pos); }

static void sift(Entry *e, size_t i, size_t n) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && before(&e[c], &e[c + 1])) c++;
    if (!before(&e[i], &e[c])) return;
    Entry t = e[i];
    e[i] = e[c];
    e[c] = t;
    i = c;
  }
}

static void sort_entries(Entry *e, size_t n, int depth) {
  while (n > 16) {
    if (depth-- == 0) {
      for (size_t i = n / 2; i-- > 0;) sift(e, i, n);
      for (size_t end = n - 1; end > 0; end--) {
        Entry t = e[0];
        e[0] = e[end];
        e[end] = t;
        sift(e, 0, end);
      }
      return;
    }
    Entry *a = &e[0], *m = &e[n / 2], *z = &e[n - 1], pivot;
    if (before(m, a)) { Entry t = *a; *a = *m; *m = t; }
    if (before(z, m)) { Entry t = *m; *m = *z; *z = t; if (before(m, a)) { t = *a; *a = *m; *m = t; } }
    pivot = *m;
    size_t i = 0, j = n - 1;
    for (;;) {
      while (before(&e[i], &pivot)) i++;
      while (before(&pivot, &e[j])) j--;
      if (i >= j) break;
      Entry t = e[i];
      e[i] = e[j];
      e[j] = t;
      i++;
      j--;
    }
    /* [0, j] and [j + 1, n): recurse into the smaller part, loop on the larger. */
    if (j + 1 < n - j - 1) {
      sort_entries(e, j + 1, depth);
      e += j + 1;
      n -= j + 1;
    } else {
      sort_entries(e + j + 1, n - j - 1, depth);
      n = j + 1;
    }
  }
  for (size_t i = 1; i < n; i++) {
    Entry t = e[i];
    size_t k = i;
    while (k > 0 && before(&t, &e[k - 1])) {
      e[k] = e[k - 1];
      k--;
    }
    e[k] = t;
  }
}

/* A node's book read in priority order: a k-way merge of runs (TypeScript: BookReader). */
typedef struct {
  Run *runs;
  int32_t *head;
  int32_t *heap;
  int32_t size;
  double last_key;
} Reader;

/* Keys are distinct (see the top of this file), so no tie-break is needed here. */
static inline int first(const Reader *r, int32_t a, int32_t b) { return r->runs[a].key[r->head[a]] < r->runs[b].key[r->head[b]]; }

static void reader_sift(Reader *r, int32_t i) {
  int32_t *heap = r->heap;
  for (;;) {
    int32_t l = 2 * i + 1;
    if (l >= r->size) return;
    int32_t c = l + 1 < r->size && first(r, heap[l + 1], heap[l]) ? l + 1 : l;
    if (!first(r, heap[c], heap[i])) return;
    int32_t t = heap[i];
    heap[i] = heap[c];
    heap[c] = t;
    i = c;
  }
}

/* runs[0..count) may hold empty runs; they are dropped. head and heap have room for count. */
static void reader_init(Reader *r, Run *runs, int32_t count, int32_t *head, int32_t *heap) {
  int32_t kept = 0;
  for (int32_t i = 0; i < count; i++)
    if (runs[i].len > 0) runs[kept++] = runs[i];
  r->runs = runs;
  r->head = head;
  r->heap = heap;
  r->size = kept;
  for (int32_t i = 0; i < kept; i++) {
    head[i] = 0;
    heap[i] = i;
  }
  for (int32_t i = (kept >> 1) - 1; i >= 0; i--) reader_sift(r, i);
}

static inline int32_t reader_next(Reader *r) {
  if (r->size == 0) return -1;
  int32_t k = r->heap[0];
  const Run *run = &r->runs[k];
  int32_t h = r->head[k];
  int32_t pos = run->pos[h];
  r->last_key = run->key[h];
  if (h + 1 < run->len) r->head[k] = h + 1;
  else r->heap[0] = r->heap[--r->size];
  if (r->size > 1) reader_sift(r, 0);
  return pos;
}

static inline int read_bid(Reader *r, int32_t *pos, double *key, int32_t *count) {
  int32_t p = reader_next(r);
  if (p == -1) return 0;
  pos[*count] = p;
  key[(*count)++] = r->last_key;
  return 1;
}

/* next_open: union–find over the asks read, skipping those filled or blocked; see openFrom. */
static inline int read_ask(Reader *r, int32_t *pos, double *key, int32_t *next_open, int32_t *count) {
  int32_t p = reader_next(r);
  if (p == -1) return 0;
  pos[*count] = p;
  key[(*count)++] = r->last_key;
  next_open[*count] = *count;
  return 1;
}

static inline int32_t open_from(int32_t *next_open, int32_t i) {
  while (next_open[i] != i) {
    next_open[i] = next_open[next_open[i]];
    i = next_open[i];
  }
  return i;
}

typedef struct {
  /* inputs */
  int32_t n, node_count, pay_as_clear;
  const uint8_t *side;
  const double *energy, *limit_price, *seq, *keys, *capacity, *fee;
  double min_price, max_price, min_seq, seq_span;
  const int32_t *node, *parent, *bottom_up, *child_start, *child_list;
  /* outputs */
  int32_t *trade_buy, *trade_sell, *trade_node;
  double *trade_energy, *trade_price, *node_price, *node_volume, *flow[2];
  uint8_t *congested;
} Clearing;

static double room(const Clearing *c, int32_t from, int32_t to, int direction) {
  const double *used = c->flow[direction];
  double free_wh = INFINITY;
  for (int32_t x = from; x != to; x = c->parent[x]) {
    double f = c->capacity[x] - used[x];
    if (f < free_wh) free_wh = f;
  }
  return free_wh > 0 ? free_wh : 0;
}

static void mark_full(const Clearing *c, int32_t from, int32_t to, int direction) {
  const double *used = c->flow[direction];
  for (int32_t x = from; x != to; x = c->parent[x])
    if (used[x] >= c->capacity[x]) c->congested[x] = 1;
}

static void carry(const Clearing *c, int32_t from, int32_t to, int direction, double energy) {
  double *used = c->flow[direction];
  for (int32_t x = from; x != to; x = c->parent[x]) used[x] += energy;
}

/* Leftover runs per node, as index ranges into one growing pool. */
typedef struct {
  Run *runs;
  size_t count, size;
} RunPool;

static int pool_push(RunPool *p, Run run) {
  if (p->count == p->size) {
    size_t size = p->size ? 2 * p->size : 4096;
    Run *runs = realloc(p->runs, size * sizeof(Run));
    if (!runs) return 0;
    p->runs = runs;
    p->size = size;
  }
  p->runs[p->count++] = run;
  return 1;
}

/* TypeScript: stillOpen. The orders read that can still trade further up, in a chunk of their own. */
static int still_open(Chunk **chunks, const int32_t *pos, const double *key, int32_t count, const double *left, const uint8_t *blocked, Run *out) {
  size_t open = 0;
  for (int32_t i = 0; i < count; i++)
    if (left[pos[i]] > 0 && blocked[pos[i]] == 0) open++;
  if (*chunks == NULL || (*chunks)->size - (*chunks)->used < open) {
    Chunk *c = chunk_new(open > ((size_t)1 << 18) ? open : ((size_t)1 << 18), *chunks);
    if (!c) return 0;
    *chunks = c;
  }
  Chunk *c = *chunks;
  int32_t *p = c->pos + c->used;
  double *k = c->key + c->used;
  size_t o = 0;
  for (int32_t i = 0; i < count; i++) {
    if (left[pos[i]] > 0 && blocked[pos[i]] == 0) {
      p[o] = pos[i];
      k[o++] = key[i];
    }
  }
  c->used += open;
  out->pos = p;
  out->key = k;
  out->len = (int32_t)open;
  return 1;
}

static int32_t clear(Clearing *c) {
  const int32_t n = c->n, node_count = c->node_count;
  for (int32_t x = 0; x < node_count; x++) {
    c->node_price[x] = NAN;
    c->node_volume[x] = 0;
    c->flow[UP][x] = 0;
    c->flow[DOWN][x] = 0;
    c->congested[x] = 0;
  }
  int32_t *block_of_node = take(0, (size_t)node_count * sizeof(int32_t));
  int32_t *block_start = take(1, (2 * (size_t)node_count + 1) * sizeof(int32_t));
  int32_t *fill = take(2, 2 * (size_t)node_count * sizeof(int32_t));
  if (!block_of_node || !block_start || !fill) return NO_MEMORY;
  for (int32_t i = 0; i < node_count; i++) block_of_node[c->bottom_up[i]] = 2 * i;
  memset(block_start, 0, (2 * (size_t)node_count + 1) * sizeof(int32_t));
  for (int32_t k = 0; k < n; k++)
    if (c->energy[k] > 0) block_start[block_of_node[c->node[k]] + c->side[k] + 1]++;
  int32_t largest = 0;
  for (int32_t b = 0; b < 2 * node_count; b++) {
    if (block_start[b + 1] > largest) largest = block_start[b + 1];
    block_start[b + 1] += block_start[b];
  }
  int64_t bid_count = 0, ask_count = 0;
  for (int32_t b = 0; b < 2 * node_count; b += 2) {
    bid_count += block_start[b + 1] - block_start[b];
    ask_count += block_start[b + 2] - block_start[b + 1];
  }
  if (bid_count == 0 || ask_count == 0) return 0;

  const size_t sz = (size_t)n;
  int32_t *orig = take(3, sz * sizeof(int32_t));
  double *price = take(4, sz * sizeof(double));
  double *left = take(5, sz * sizeof(double));
  int32_t *at = take(6, sz * sizeof(int32_t));
  Entry *entries = take(7, sz * sizeof(Entry));
  int32_t *own_pos = take(8, sz * sizeof(int32_t));
  double *own_key = take(9, sz * sizeof(double));
  uint8_t *blocked = take(10, sz ? sz : 1);
  int32_t *read_bid_pos = take(11, sz * sizeof(int32_t));
  double *read_bid_key = take(12, sz * sizeof(double));
  int32_t *read_ask_pos = take(13, sz * sizeof(int32_t));
  double *read_ask_key = take(14, sz * sizeof(double));
  int32_t *next_open = take(15, (sz + 1) * sizeof(int32_t));
  int32_t *leftover_start = take(16, 2 * (size_t)node_count * sizeof(int32_t));
  int32_t *leftover_count = take(17, 2 * (size_t)node_count * sizeof(int32_t));
  if (!orig || !price || !left || !at || !entries || !own_pos || !own_key || !blocked || !read_bid_pos || !read_bid_key || !read_ask_pos || !read_ask_key || !next_open || !leftover_start || !leftover_count) return NO_MEMORY;
  memcpy(fill, block_start, 2 * (size_t)node_count * sizeof(int32_t));
  for (int32_t k = 0; k < n; k++) {
    if (!(c->energy[k] > 0)) continue;
    uint8_t side = c->side[k];
    int32_t pos = fill[block_of_node[c->node[k]] + side]++;
    double p = c->limit_price[k];
    orig[pos] = k;
    entries[pos].key = c->keys ? c->keys[k] : (side == 0 ? c->max_price - p : p - c->min_price) * c->seq_span + (c->seq[k] - c->min_seq);
    entries[pos].pos = pos;
    price[pos] = p;
    left[pos] = c->energy[k];
    at[pos] = c->node[k];
  }
  for (int32_t b = 0; b < 2 * node_count; b++) {
    int32_t start = block_start[b], m = block_start[b + 1] - start;
    if (m == 0) continue;
    Entry *e = entries + start;
    int depth = 0;
    for (int32_t s = m; s > 1; s >>= 1) depth += 2;
    sort_entries(e, (size_t)m, depth);
    for (int32_t j = 0; j < m; j++) {
      if (j > 0 && e[j].key == e[j - 1].key) return TIE;
      own_pos[start + j] = e[j].pos;
      own_key[start + j] = e[j].key;
    }
  }
  memset(blocked, 0, sz);

  RunPool pool = {0};
  Chunk *chunks = NULL;
  int32_t result = 0;
  int32_t trade_count = 0;
  const int pay_as_clear = c->pay_as_clear;
  for (int32_t i = 0; i < node_count; i++) {
    const int32_t x = c->bottom_up[i];
    const int32_t block = block_of_node[x];
    /* Runs: own block first, then each child's leftovers, as the TypeScript engine lists them. */
    int32_t bid_runs = 1, ask_runs = 1;
    for (int32_t ci = c->child_start[x]; ci < c->child_start[x + 1]; ci++) {
      int32_t child = c->child_list[ci];
      bid_runs += leftover_count[2 * child];
      ask_runs += leftover_count[2 * child + 1];
    }
    Run *bruns = take(18, (size_t)bid_runs * sizeof(Run));
    Run *aruns = take(19, (size_t)ask_runs * sizeof(Run));
    int32_t *bhead = take(20, (size_t)bid_runs * 2 * sizeof(int32_t));
    int32_t *ahead = take(21, (size_t)ask_runs * 2 * sizeof(int32_t));
    if (!bruns || !aruns || !bhead || !ahead) { result = NO_MEMORY; goto done; }
    bruns[0] = (Run){own_pos + block_start[block], own_key + block_start[block], block_start[block + 1] - block_start[block]};
    aruns[0] = (Run){own_pos + block_start[block + 1], own_key + block_start[block + 1], block_start[block + 2] - block_start[block + 1]};
    int32_t nb = 1, na = 1;
    for (int32_t ci = c->child_start[x]; ci < c->child_start[x + 1]; ci++) {
      int32_t child = c->child_list[ci];
      for (int32_t r = 0; r < leftover_count[2 * child]; r++) bruns[nb++] = pool.runs[leftover_start[2 * child] + r];
      for (int32_t r = 0; r < leftover_count[2 * child + 1]; r++) aruns[na++] = pool.runs[leftover_start[2 * child + 1] + r];
    }
    Reader bid_source, ask_source;
    reader_init(&bid_source, bruns, nb, bhead, bhead + bid_runs);
    reader_init(&ask_source, aruns, na, ahead, ahead + ask_runs);
    int32_t bids_read = 0, asks_read = 0;
    next_open[0] = 0;
    const double fee = c->fee[x];

#define READ_BID() read_bid(&bid_source, read_bid_pos, read_bid_key, &bids_read)
#define READ_ASK() read_ask(&ask_source, read_ask_pos, read_ask_key, next_open, &asks_read)
    double buyer_price = NAN;
    int64_t eligible_bids = INT64_MAX, eligible_asks = INT64_MAX;
    if (pay_as_clear) {
      int32_t bi = 0, aj = 0;
      double bid_left = READ_BID() ? left[read_bid_pos[0]] : 0;
      double ask_left = READ_ASK() ? left[read_ask_pos[0]] : 0;
      double marginal_bid = NAN, marginal_ask = 0;
      while (bi < bids_read && aj < asks_read) {
        double bid_price = price[read_bid_pos[bi]];
        double ask_price = price[read_ask_pos[aj]] + fee;
        if (bid_price < ask_price) break;
        double q = bid_left < ask_left ? bid_left : ask_left;
        marginal_bid = bid_price;
        marginal_ask = ask_price;
        bid_left -= q;
        ask_left -= q;
        if (bid_left == 0) bid_left = ++bi < bids_read || READ_BID() ? left[read_bid_pos[bi]] : 0;
        if (ask_left == 0) ask_left = ++aj < asks_read || READ_ASK() ? left[read_ask_pos[aj]] : 0;
      }
      eligible_bids = 0;
      eligible_asks = 0;
      if (!isnan(marginal_bid)) {
        buyer_price = floor((marginal_bid + marginal_ask) / 2);
        while ((eligible_bids < bids_read || READ_BID()) && price[read_bid_pos[eligible_bids]] >= buyer_price) eligible_bids++;
        while ((eligible_asks < asks_read || READ_ASK()) && price[read_ask_pos[eligible_asks]] + fee <= buyer_price) eligible_asks++;
      }
    }

    double volume = 0;
    for (int32_t bi = 0; bi < eligible_bids && (bi < bids_read || READ_BID()); bi++) {
      const int32_t b = read_bid_pos[bi];
      const double bid_price = price[b];
      int32_t k = open_from(next_open, 0);
      if (!pay_as_clear && (k < asks_read || READ_ASK()) && bid_price < price[read_ask_pos[k]] + fee) break;
      for (; k < eligible_asks && (k < asks_read || READ_ASK()) && left[b] > 0; k = open_from(next_open, k + 1)) {
        const int32_t a = read_ask_pos[k];
        if (bid_price < price[a] + fee) break;
        const double up = at[a] == x ? INFINITY : room(c, at[a], x, UP);
        if (up == 0) {
          mark_full(c, at[a], x, UP);
          blocked[a] = 1;
          next_open[k] = k + 1;
          continue;
        }
        const double down = at[b] == x ? INFINITY : room(c, at[b], x, DOWN);
        if (down == 0) {
          mark_full(c, at[b], x, DOWN);
          blocked[b] = 1;
          break;
        }
        const double wanted = left[b] < left[a] ? left[b] : left[a];
        double energy = wanted < up ? wanted : up;
        if (down < energy) energy = down;
        if (at[a] != x) carry(c, at[a], x, UP, energy);
        if (at[b] != x) carry(c, at[b], x, DOWN, energy);
        c->trade_buy[trade_count] = orig[b];
        c->trade_sell[trade_count] = orig[a];
        c->trade_node[trade_count] = x;
        c->trade_energy[trade_count] = energy;
        c->trade_price[trade_count] = pay_as_clear ? buyer_price : floor((bid_price + price[a] + fee) / 2);
        trade_count++;
        left[b] -= energy;
        left[a] -= energy;
        volume += energy;
        if (left[a] == 0) next_open[k] = k + 1;
        if (energy < wanted) {
          mark_full(c, at[a], x, UP);
          mark_full(c, at[b], x, DOWN);
        }
      }
    }
#undef READ_BID
#undef READ_ASK
    c->node_volume[x] = volume;
    if (volume > 0 && pay_as_clear) c->node_price[x] = buyer_price;

    if (c->parent[x] != -1) {
      Run open;
      leftover_start[2 * x] = (int32_t)pool.count;
      if (!still_open(&chunks, read_bid_pos, read_bid_key, bids_read, left, blocked, &open) || !pool_push(&pool, open)) { result = NO_MEMORY; goto done; }
      for (int32_t h = 0; h < bid_source.size; h++) {
        int32_t r = bid_source.heap[h], head = bid_source.head[r];
        Run rest = {bid_source.runs[r].pos + head, bid_source.runs[r].key + head, bid_source.runs[r].len - head};
        if (!pool_push(&pool, rest)) { result = NO_MEMORY; goto done; }
      }
      leftover_count[2 * x] = (int32_t)pool.count - leftover_start[2 * x];
      leftover_start[2 * x + 1] = (int32_t)pool.count;
      if (!still_open(&chunks, read_ask_pos, read_ask_key, asks_read, left, blocked, &open) || !pool_push(&pool, open)) { result = NO_MEMORY; goto done; }
      for (int32_t h = 0; h < ask_source.size; h++) {
        int32_t r = ask_source.heap[h], head = ask_source.head[r];
        Run rest = {ask_source.runs[r].pos + head, ask_source.runs[r].key + head, ask_source.runs[r].len - head};
        if (!pool_push(&pool, rest)) { result = NO_MEMORY; goto done; }
      }
      leftover_count[2 * x + 1] = (int32_t)pool.count - leftover_start[2 * x + 1];
    }
  }
  result = trade_count;
done:
  free(pool.runs);
  chunks_free(chunks);
  return result;
}

/* ---- N-API ---- */

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok) return 0;
  return type == want;
}

/*
 * clearColumns(side u8, energyWh f64, limitPrice f64, seq f64, node i32, keys f64 | null,
 *              scheme f64[minPrice, maxPrice, minSeq, seqSpan], parent i32, fee f64, capacityWh f64,
 *              bottomUp i32, childStart i32, childList i32, payAsClear 0|1,
 *              tradeBuy i32, tradeSell i32, tradeNode i32, tradeEnergyWh f64, tradeBuyerPrice f64,
 *              nodeBuyerPrice f64, nodeVolumeWh f64, linkUpWh f64, linkDownWh f64, linkCongested u8)
 * → number of trades, or -1 for a tie the TypeScript engine must break.
 */
#define ARGS 24
static napi_value js_clear_columns(napi_env env, napi_callback_info info) {
  size_t argc = ARGS;
  napi_value argv[ARGS], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Clearing c;
  void *d;
  size_t len, n, nodes, trades, l;
  napi_valuetype kind;
  int ok = argc == ARGS;
  ok = ok && typed(env, argv[0], napi_uint8_array, &d, &n) && (c.side = d, 1);
  ok = ok && typed(env, argv[1], napi_float64_array, &d, &len) && len == n && (c.energy = d, 1);
  ok = ok && typed(env, argv[2], napi_float64_array, &d, &len) && len == n && (c.limit_price = d, 1);
  ok = ok && typed(env, argv[3], napi_float64_array, &d, &len) && len == n && (c.seq = d, 1);
  ok = ok && typed(env, argv[4], napi_int32_array, &d, &len) && len == n && (c.node = d, 1);
  c.keys = NULL;
  ok = ok && napi_typeof(env, argv[5], &kind) == napi_ok;
  if (ok && kind != napi_null) ok = typed(env, argv[5], napi_float64_array, &d, &len) && len == n && (c.keys = d, 1);
  double *scheme = NULL;
  ok = ok && typed(env, argv[6], napi_float64_array, &d, &len) && len == 4 && (scheme = d, 1);
  ok = ok && typed(env, argv[7], napi_int32_array, &d, &nodes) && (c.parent = d, 1);
  ok = ok && typed(env, argv[8], napi_float64_array, &d, &len) && len == nodes && (c.fee = d, 1);
  ok = ok && typed(env, argv[9], napi_float64_array, &d, &len) && len == nodes && (c.capacity = d, 1);
  ok = ok && typed(env, argv[10], napi_int32_array, &d, &len) && len == nodes && (c.bottom_up = d, 1);
  ok = ok && typed(env, argv[11], napi_int32_array, &d, &len) && len == nodes + 1 && (c.child_start = d, 1);
  ok = ok && typed(env, argv[12], napi_int32_array, &d, &len) && (c.child_list = d, 1);
  int32_t pay_as_clear = 0;
  ok = ok && napi_get_value_int32(env, argv[13], &pay_as_clear) == napi_ok;
  ok = ok && typed(env, argv[14], napi_int32_array, &d, &trades) && trades >= n + 2 * nodes + 1 && (c.trade_buy = d, 1);
  ok = ok && typed(env, argv[15], napi_int32_array, &d, &l) && l == trades && (c.trade_sell = d, 1);
  ok = ok && typed(env, argv[16], napi_int32_array, &d, &l) && l == trades && (c.trade_node = d, 1);
  ok = ok && typed(env, argv[17], napi_float64_array, &d, &l) && l == trades && (c.trade_energy = d, 1);
  ok = ok && typed(env, argv[18], napi_float64_array, &d, &l) && l == trades && (c.trade_price = d, 1);
  ok = ok && typed(env, argv[19], napi_float64_array, &d, &l) && l == nodes && (c.node_price = d, 1);
  ok = ok && typed(env, argv[20], napi_float64_array, &d, &l) && l == nodes && (c.node_volume = d, 1);
  ok = ok && typed(env, argv[21], napi_float64_array, &d, &l) && l == nodes && (c.flow[UP] = d, 1);
  ok = ok && typed(env, argv[22], napi_float64_array, &d, &l) && l == nodes && (c.flow[DOWN] = d, 1);
  ok = ok && typed(env, argv[23], napi_uint8_array, &d, &l) && l == nodes && (c.congested = d, 1);
  if (!ok || n > INT32_MAX / 4 || nodes > INT32_MAX / 4) {
    napi_throw_type_error(env, NULL, "clearColumns: arguments must be the typed arrays market/engine/native-clearing.ts passes, with matching lengths");
    return NULL;
  }
  c.n = (int32_t)n;
  c.node_count = (int32_t)nodes;
  c.pay_as_clear = pay_as_clear != 0;
  c.min_price = scheme[0];
  c.max_price = scheme[1];
  c.min_seq = scheme[2];
  c.seq_span = scheme[3];
  int32_t result = clear(&c);
  if (result == NO_MEMORY) {
    napi_throw_error(env, NULL, "clearColumns: out of memory");
    return NULL;
  }
  napi_create_int32(env, result, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "clearColumns", NAPI_AUTO_LENGTH, js_clear_columns, NULL, &fn);
  napi_set_named_property(env, exports, "clearColumns", fn);
  return exports;
}
