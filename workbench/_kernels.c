/*
 * Compiled kernels of the workbench (loaded with ctypes by workbench/kernels.py).
 *
 * 1. A radix-partitioned hash aggregation of a transaction log per customer, for the customer
 *    summary (workbench/customer_scan.py explains the method):
 *      wb_histogram_ids, wb_scatter_ids  stable partition of the rows into buckets by the hash
 *                                        of the customer id (wb_histogram, wb_scatter: from
 *                                        hashes the caller computed);
 *      wb_aggregate                      per bucket, a cache-sized open-addressing table;
 *      wb_count_first, wb_first_rows,    the customers in order of first appearance (or any
 *      wb_gather_results                 order the caller gives) and their results.
 * 2. Sorting helpers: wb_view_prefix (first 8 bytes of Arrow string views as big-endian
 *    integers) and wb_radix_argsort (stable LSD radix sort of 64-bit keys).
 * 3. Mid-rank scoring passes for RFM scores: wb_order_statistics, wb_twice_midranks,
 *    wb_threshold_scores, wb_int_counts, wb_int_lookup.
 * 4. wb_text_needs_cleaning: does a text column need stripping (the readers' fast check)?
 *
 * Every function works on caller-owned arrays, allocates only its own scratch space, holds no
 * global state and may run in several threads at once on disjoint work.  Row arguments of the
 * partition functions point at the first row of the piece they handle; row0 is that row's
 * number in the whole table.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A row after partitioning (32 bytes). */
typedef struct {
    int64_t h1;      /* hash of the customer id: bucket (top bits) and table key */
    uint32_t h2;     /* independent hash: detects collisions of h1 */
    int32_t day;     /* days since 1970-01-01 */
    int32_t period;  /* purchase period (day number, month start, ...) */
    uint32_t row;    /* row number in the table */
    double amount;
} Row;

/* A customer in the hash table (64 bytes, one cache line). */
typedef struct {
    int64_t h1;
    uint32_t h2;
    int32_t last_period;
    int32_t n_purchases; /* 0 = empty slot */
    uint32_t start;      /* first row of the current period */
    uint32_t first_row;
    int32_t first_day;
    int32_t last_day;
    int32_t unused;
    double total;
    double first_value;
    double profit;
} Slot;

/* A customer's result (32 bytes), written over rows already read; profit goes beside it. */
typedef struct {
    int32_t first_day;
    int32_t last_day;
    int32_t n_purchases;
    int32_t unused;
    double total;
    double first_value;
} Result;

/* Bumped whenever a function's arguments change: workbench/kernels.py refuses another version. */
#define WB_ABI_VERSION 3

int wb_abi_version(void) { return WB_ABI_VERSION; }

_Static_assert(sizeof(Row) == 32 && sizeof(Result) == 32 && sizeof(Slot) == 64, "layouts");

static inline int64_t bucket_of(int64_t h, int shift, int64_t bmask) {
    return shift >= 64 ? 0 : (int64_t)((uint64_t)h >> shift) & bmask;
}

/* ---- Arrow string views (16 bytes each) ------------------------------------------------
 * A view starts with the string's length; strings of at most 12 bytes follow inline, longer ones
 * have a 4-byte prefix, then the index of their data buffer and their offset in it. */
static inline const uint8_t *view_bytes(const uint8_t *view, const uint8_t *const *buffers,
                                        int32_t *len) {
    int32_t n, index, offset;
    memcpy(&n, view, 4);
    *len = n;
    if (n <= 12) return view + 4;
    memcpy(&index, view + 8, 4);
    memcpy(&offset, view + 12, 4);
    return buffers[index] + offset;
}

static inline uint64_t mum(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)(r >> 64) ^ (uint64_t)r;
}

/* The key hash: 8-byte blocks folded by 128-bit multiplication (in the style of wyhash). */
static inline uint64_t hash_key(const uint8_t *p, int32_t len) {
    uint64_t h = 0x2d358dccaa6c78a5ULL ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL);
    int32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mum(h ^ w, 0xa0761d6478bd642fULL);
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, p + i, (size_t)(len - i));
        h = mum(h ^ w, 0xe7037ed1a0b428dbULL);
    }
    return mum(h ^ 0x8ebc6af09c88c6e3ULL, 0x589965cc75374cc3ULL);
}

/* The check hash, of another family: FNV-1a over the bytes, then MurmurHash3's finaliser. */
static inline uint64_t hash_check(const uint8_t *p, int32_t len) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int32_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

/* Ids [0, n) of one piece: count per bucket of their key hashes. */
void wb_histogram_ids(const uint8_t *views, const uint8_t *const *buffers, int64_t n, int shift,
                      int64_t bmask, int64_t *counts) {
    for (int64_t i = 0; i < n; i++) {
        int32_t len;
        const uint8_t *p = view_bytes(views + 16 * i, buffers, &len);
        counts[bucket_of((int64_t)hash_key(p, len), shift, bmask)]++;
    }
}

static inline void put_row(Row *rows, int64_t j, int64_t h1, uint64_t h2, int64_t i, int64_t row0,
                           const int32_t *day, const int32_t *period, const double *amount,
                           const double *profit, double *out_profit) {
    rows[j].h1 = h1;
    rows[j].h2 = (uint32_t)h2;
    rows[j].day = day[i];
    rows[j].period = period[i];
    rows[j].row = (uint32_t)(row0 + i);
    rows[j].amount = amount[i];
    if (profit) out_profit[j] = profit[i];
}

/* Ids [0, n) of one piece: hash and copy into rows (profit into out_profit) at cursor[bucket]. */
void wb_scatter_ids(const uint8_t *views, const uint8_t *const *buffers, int64_t n, int64_t row0,
                    const int32_t *day, const int32_t *period, const double *amount,
                    const double *profit, int shift, int64_t bmask, int64_t *cursor, Row *rows,
                    double *out_profit) {
    for (int64_t i = 0; i < n; i++) {
        int32_t len;
        const uint8_t *p = view_bytes(views + 16 * i, buffers, &len);
        int64_t h = (int64_t)hash_key(p, len);
        int64_t j = cursor[bucket_of(h, shift, bmask)]++;
        put_row(rows, j, h, hash_check(p, len), i, row0, day, period, amount, profit, out_profit);
    }
}

/* Rows [0, n) of one piece, keyed by hashes the caller computed: count per bucket. */
void wb_histogram(const int64_t *h1, int64_t n, int shift, int64_t bmask, int64_t *counts) {
    for (int64_t i = 0; i < n; i++) counts[bucket_of(h1[i], shift, bmask)]++;
}

/* Rows [0, n) of one piece, keyed by hashes the caller computed: copy into their buckets. */
void wb_scatter(const int64_t *h1, const int64_t *h2, int64_t n, int64_t row0, const int32_t *day,
                const int32_t *period, const double *amount, const double *profit, int shift,
                int64_t bmask, int64_t *cursor, Row *rows, double *out_profit) {
    for (int64_t i = 0; i < n; i++) {
        int64_t j = cursor[bucket_of(h1[i], shift, bmask)]++;
        put_row(rows, j, h1[i], (uint64_t)h2[i], i, row0, day, period, amount, profit,
                out_profit);
    }
}

static int64_t find_slot(const Slot *table, int64_t mask, int64_t h) {
    int64_t s = h & mask;
    while (table[s].n_purchases != 0 && table[s].h1 != h) s = (s + 1) & mask;
    return s;
}

/* Double the table: returns the new table (or NULL when out of memory). */
static Slot *grow(Slot *table, int64_t *cap, int64_t *used, int64_t k) {
    int64_t new_cap = *cap * 2, mask = new_cap - 1;
    Slot *bigger = calloc((size_t)new_cap, sizeof(Slot));
    if (!bigger) return NULL;
    for (int64_t u = 0; u < k; u++) {
        int64_t s = find_slot(bigger, mask, table[used[u]].h1);
        bigger[s] = table[used[u]];
        used[u] = s;
    }
    free(table);
    *cap = new_cap;
    return bigger;
}

/*
 * Aggregate buckets [b_lo, b_hi) of the partitioned rows.  The results are written compactly
 * from results[starts[b_lo]] on (results may be the rows array itself: a customer has at least
 * one row and Result and Row are both 32 bytes, so only rows already read are overwritten), with
 * the profit sums at the same index of results_profit.  is_first marks each customer's first
 * row and at_first_row there holds the index of its result; shares marks rows
 * that share a customer and period with another, and at_first_row at such a row (unless it is a
 * first row) holds its customer's first row.
 * status: [0] customers, [1] hash collision seen, [2] a period went backwards, [3] out of memory.
 */
void wb_aggregate(const Row *rows, const double *profit, const int64_t *starts, int64_t b_lo,
                  int64_t b_hi, int64_t expected, Result *results, double *results_profit,
                  uint32_t *at_first_row, uint8_t *is_first, uint8_t *shares, int64_t *status) {
    int64_t cap = 64;
    while (cap < 2 * expected) cap *= 2;
    Slot *table = calloc((size_t)cap, sizeof(Slot));
    int64_t *used = malloc((size_t)(cap / 2) * sizeof(int64_t));
    int64_t customers = 0;
    int collision = 0, unsorted = 0;
    status[3] = 0;
    if (!table || !used) goto oom;
    for (int64_t b = b_lo; b < b_hi; b++) {
        int64_t k = 0, mask = cap - 1;
        for (int64_t j = starts[b]; j < starts[b + 1]; j++) {
            const Row r = rows[j];
            int64_t s = find_slot(table, mask, r.h1);
            Slot *t = &table[s];
            if (t->n_purchases == 0) {
                if (2 * (k + 1) > cap) {
                    table = grow(table, &cap, used, k);
                    if (!table) goto oom;
                    int64_t *more = realloc(used, (size_t)(cap / 2) * sizeof(int64_t));
                    if (!more) goto oom;
                    used = more;
                    mask = cap - 1;
                    s = find_slot(table, mask, r.h1);
                    t = &table[s];
                }
                used[k++] = s;
                t->h1 = r.h1;
                t->h2 = r.h2;
                t->last_period = r.period;
                t->n_purchases = 1;
                t->start = t->first_row = r.row;
                t->first_day = t->last_day = r.day;
                t->total = t->first_value = r.amount;
                t->profit = profit ? profit[j] : 0.0;
                continue;
            }
            if (t->h2 != r.h2) collision = 1;
            t->total += r.amount;
            if (profit) t->profit += profit[j];
            if (r.period == t->last_period) {
                shares[r.row] = 1;
                shares[t->start] = 1;
                at_first_row[r.row] = t->first_row; /* a later row: say whose it is */
                if (t->n_purchases == 1) t->first_value += r.amount;
            } else if (r.period > t->last_period) {
                t->last_period = r.period;
                t->n_purchases++;
                t->start = r.row;
            } else {
                unsorted = 1;
            }
            if (r.day > t->last_day) t->last_day = r.day;
        }
        /* rows [starts[b], starts[b + 1]) are read: results may overwrite them now */
        for (int64_t u = 0; u < k; u++) {
            Slot *t = &table[used[u]];
            int64_t o = starts[b_lo] + customers + u;
            is_first[t->first_row] = 1;
            at_first_row[t->first_row] = (uint32_t)o;
            results[o].first_day = t->first_day;
            results[o].last_day = t->last_day;
            results[o].n_purchases = t->n_purchases;
            results[o].total = t->total;
            results[o].first_value = t->first_value;
            if (results_profit) results_profit[o] = t->profit;
            t->n_purchases = 0;
        }
        customers += k;
    }
    free(table);
    free(used);
    status[0] = customers;
    status[1] = collision;
    status[2] = unsorted;
    return;
oom:
    free(table);
    free(used);
    status[3] = 1;
}

/*
 * The results of the customers whose first rows are first_row[order[c]], c in [0, k) (order may
 * be NULL: c itself), into the output arrays.
 */
void wb_gather_results(const Result *results, const double *results_profit,
                       const uint32_t *at_first_row, const uint32_t *first_row,
                       const int64_t *order, int64_t k, int32_t *n_purchases, double *total,
                       double *first_value, double *profit, int32_t *first_day,
                       int32_t *last_day) {
    for (int64_t c = 0; c < k; c++) {
        uint32_t o = at_first_row[first_row[order ? order[c] : c]];
        const Result *r = &results[o];
        n_purchases[c] = r->n_purchases;
        total[c] = r->total;
        first_value[c] = r->first_value;
        first_day[c] = r->first_day;
        last_day[c] = r->last_day;
        if (profit) profit[c] = results_profit[o];
    }
}

/* Rows [lo, hi): the number of first rows. */
int64_t wb_count_first(const uint8_t *is_first, int64_t lo, int64_t hi) {
    int64_t c = 0;
    for (int64_t i = lo; i < hi; i++) c += is_first[i];
    return c;
}

/* Rows [lo, hi) in order: the first rows, written to first_row[c0], first_row[c0 + 1], ... */
void wb_first_rows(int64_t lo, int64_t hi, int64_t c0, const uint8_t *is_first,
                   uint32_t *first_row) {
    int64_t c = c0;
    for (int64_t i = lo; i < hi; i++)
        if (is_first[i]) first_row[c++] = (uint32_t)i;
}

/*
 * Arrow string views (16 bytes each; strings of up to 12 bytes inline after the 4-byte length):
 * the first 8 bytes of each string as a big-endian integer, zero-padded, so that integer order
 * is byte order.  Returns 0, or -1 if a string is longer than 8 bytes or contains a zero byte
 * (then integer order could differ from byte order).
 */
int wb_view_prefix(const uint8_t *views, int64_t n, uint64_t *out) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *v = views + 16 * i;
        int32_t len;
        memcpy(&len, v, 4);
        if (len > 8) return -1;
        uint64_t key = 0;
        for (int b = 0; b < 8; b++) {
            uint8_t byte = b < len ? v[4 + b] : 0;
            if (b < len && byte == 0) return -1;
            key = (key << 8) | byte;
        }
        out[i] = key;
    }
    return 0;
}

/*
 * Stable least-significant-digit radix sort of 64-bit keys.  The bits on which all keys agree
 * are dropped first (ids such as C0001234 vary in a few bits of each byte), which keeps the
 * order and leaves fewer digits to sort: ceil(bits / 11) passes of at most 11 bits.  Keys travel
 * with their indices, so every pass reads and writes sequentially.  Writes the sorting
 * permutation to perm.  Returns 0, or -1 when out of memory.
 */
#define RADIX_MAX_BITS 11

typedef struct {
    uint64_t key;
    int64_t index;
} Keyed;

/* The varying bits of key (runs of them, most significant first) packed together. */
static inline uint64_t compact_key(uint64_t key, const int *run_low, const int *run_width,
                                   int runs) {
    uint64_t k = 0;
    for (int r = 0; r < runs; r++) {
        uint64_t part = key >> run_low[r];
        k = run_width[r] == 64 ? part : (k << run_width[r]) | (part & ((1ULL << run_width[r]) - 1));
    }
    return k;
}

/* Counts into starting positions (exclusive prefix sums), in place; returns counts. */
static int64_t *prefix_sums(int64_t *counts, int64_t size) {
    int64_t sum = 0;
    for (int64_t v = 0; v < size; v++) {
        int64_t here = counts[v];
        counts[v] = sum;
        sum += here;
    }
    return counts;
}

int wb_radix_argsort(const uint64_t *keys, int64_t n, int64_t *perm) {
    uint64_t all_and = ~0ULL, all_or = 0;
    for (int64_t i = 0; i < n; i++) {
        all_and &= keys[i];
        all_or |= keys[i];
    }
    uint64_t varying = n > 0 ? all_and ^ all_or : 0;
    /* runs of varying bits, most significant first: (lowest bit, width) */
    int run_low[64], run_width[64], runs = 0, bits = 0;
    for (int bit = 63; bit >= 0;) {
        if (!((varying >> bit) & 1)) {
            bit--;
            continue;
        }
        int top = bit;
        while (bit >= 0 && ((varying >> bit) & 1)) bit--;
        run_low[runs] = bit + 1;
        run_width[runs] = top - bit;
        bits += top - bit;
        runs++;
    }
    if (bits == 0) {
        for (int64_t i = 0; i < n; i++) perm[i] = i;
        return 0;
    }
    int passes = (bits + RADIX_MAX_BITS - 1) / RADIX_MAX_BITS;
    int digit = (bits + passes - 1) / passes;
    int64_t size = (int64_t)1 << digit;
    int64_t *count = calloc((size_t)(passes * size), sizeof(int64_t));
    if (!count) return -1;
    Keyed *a = malloc((size_t)n * sizeof(Keyed)), *b = malloc((size_t)n * sizeof(Keyed));
    if (!a || !b) {
        free(a);
        free(b);
        free(count);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = compact_key(keys[i], run_low, run_width, runs);
        a[i].key = k;
        a[i].index = i;
        for (int d = 0; d < passes; d++) count[d * size + ((k >> (d * digit)) & (size - 1))]++;
    }
    for (int d = 0; d < passes; d++) {
        int64_t *c = prefix_sums(count + d * size, size);
        for (int64_t i = 0; i < n; i++) b[c[(a[i].key >> (d * digit)) & (size - 1)]++] = a[i];
        Keyed *swap = a;
        a = b;
        b = swap;
    }
    for (int64_t i = 0; i < n; i++) perm[i] = a[i].index;
    free(a);
    free(b);
    free(count);
    return 0;
}

/*
 * Removed (issue 9): the mid-rank helpers, the order statistics, integer counts and lookups and
 * the id text check redid what NumPy (count_nonzero, searchsorted, partition, bincount, take)
 * and Polars (str.contains) do; they are in workbench/kernels.py as NumPy / Polars code.
 */

/* An importable (empty) module, so that the library installs and is found like any other. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels",
                                    "Compiled kernels, called through ctypes", -1, NULL,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
