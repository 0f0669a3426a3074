/*
 * Compiled kernels of the workbench (loaded with ctypes by workbench/kernels.py).
 *
 * 1. A radix-partitioned hash aggregation of a transaction log per customer, for the customer
 *    summary (workbench/customer_scan.py explains the method):
 *      wb_histogram, wb_scatter  stable partition of the rows into buckets by hash bits;
 *      wb_aggregate               per bucket, a cache-sized open-addressing table;
 *      wb_collect                 the results in order of first appearance.
 * 2. Sorting helpers: wb_view_prefix (first 8 bytes of Arrow string views as big-endian
 *    integers) and wb_radix_argsort (stable LSD radix sort of 64-bit keys).
 * 3. Mid-rank scoring passes for RFM scores: wb_twice_midranks, wb_threshold_scores.
 *
 * Every function works on caller-owned arrays, allocates only its own scratch space, holds no
 * global state and may run in several threads at once on disjoint work.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

/* A row after partitioning (32 bytes). */
typedef struct {
    int64_t h1;      /* hash of the customer id: bucket (top bits) and table key */
    int64_t h2;      /* independent hash: detects collisions of h1 */
    int32_t period;  /* purchase period (day number, month start, ...) */
    uint32_t row;    /* row number in the input */
    double amount;
} Row;

/* A customer in the hash table (64 bytes, one cache line). */
typedef struct {
    int64_t h1;
    int64_t h2;
    int64_t last_period;
    int32_t n_purchases; /* 0 = empty slot */
    uint32_t start;      /* first row of the current period */
    uint32_t last_row;
    uint32_t first_row;
    double total;
    double first_value;
    double profit;
} Slot;

/* A customer's result (32 bytes), written over the rows of its bucket once they are read. */
typedef struct {
    uint32_t last_row;
    int32_t n_purchases;
    double total;
    double first_value;
    double profit;
} Result;

static inline int64_t bucket_of(int64_t h, int shift, int64_t bmask) {
    return shift >= 64 ? 0 : (int64_t)((uint64_t)h >> shift) & bmask;
}

/* Rows [lo, hi): count per bucket into counts. */
void wb_histogram(const int64_t *h1, int64_t lo, int64_t hi, int shift, int64_t bmask,
                  int64_t *counts) {
    for (int64_t i = lo; i < hi; i++) counts[bucket_of(h1[i], shift, bmask)]++;
}

/* Rows [lo, hi): copy into rows (and profit into out_profit when given) at cursor[bucket]. */
void wb_scatter(const int64_t *h1, const int64_t *h2, const int32_t *period, const double *amount,
                const double *profit, int shift, int64_t bmask, int64_t lo, int64_t hi,
                int64_t *cursor, Row *rows, double *out_profit) {
    for (int64_t i = lo; i < hi; i++) {
        int64_t b = bucket_of(h1[i], shift, bmask);
        int64_t j = cursor[b]++;
        rows[j].h1 = h1[i];
        rows[j].h2 = h2[i];
        rows[j].period = period[i];
        rows[j].row = (uint32_t)i;
        rows[j].amount = amount[i];
        if (profit) out_profit[j] = profit[i];
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
 * from rows[starts[b_lo]] on, over rows already read (a customer has at least one row, and
 * Result and Row are both 32 bytes): is_first marks each customer's first row and at_first_row
 * there holds the index of its result; shares marks rows that share a customer and period with
 * another.
 * status: [0] customers, [1] hash collision seen, [2] a period went backwards, [3] out of memory.
 */
void wb_aggregate(Row *rows, const double *profit, const int64_t *starts, int64_t b_lo,
                  int64_t b_hi, int64_t expected, uint32_t *at_first_row, uint8_t *is_first,
                  uint8_t *shares, int64_t *status) {
    _Static_assert(sizeof(Result) == sizeof(Row), "results overwrite rows");
    Result *results = (Result *)rows;
    int64_t cap = 64;
    while (cap < 2 * expected) cap *= 2;
    Slot *table = calloc((size_t)cap, sizeof(Slot));
    int64_t used_cap = cap / 2;
    int64_t *used = malloc((size_t)used_cap * sizeof(int64_t));
    int64_t customers = 0;
    int collision = 0, unsorted = 0;
    status[3] = 0;
    if (!table || !used) goto oom;
    for (int64_t b = b_lo; b < b_hi; b++) {
        int64_t k = 0, mask = cap - 1;
        for (int64_t j = starts[b]; j < starts[b + 1]; j++) {
            const Row *r = &rows[j];
            uint32_t i = r->row;
            int64_t s = find_slot(table, mask, r->h1);
            Slot *t = &table[s];
            if (t->n_purchases == 0) {
                if (2 * (k + 1) > cap) {
                    table = grow(table, &cap, used, k);
                    if (!table) goto oom;
                    used_cap = cap / 2;
                    int64_t *more = realloc(used, (size_t)used_cap * sizeof(int64_t));
                    if (!more) goto oom;
                    used = more;
                    mask = cap - 1;
                    s = find_slot(table, mask, r->h1);
                    t = &table[s];
                }
                used[k++] = s;
                t->h1 = r->h1;
                t->h2 = r->h2;
                t->last_period = r->period;
                t->n_purchases = 1;
                t->start = t->first_row = t->last_row = i;
                t->total = t->first_value = r->amount;
                t->profit = profit ? profit[j] : 0.0;
                continue;
            }
            if (t->h2 != r->h2) collision = 1;
            t->total += r->amount;
            if (profit) t->profit += profit[j];
            if (r->period == t->last_period) {
                shares[i] = 1;
                shares[t->start] = 1;
                if (t->n_purchases == 1) t->first_value += r->amount;
            } else if (r->period > t->last_period) {
                t->last_period = r->period;
                t->n_purchases++;
                t->start = i;
            } else {
                unsorted = 1;
            }
            t->last_row = i;
        }
        for (int64_t u = 0; u < k; u++) {
            Slot *t = &table[used[u]];
            int64_t o = starts[b_lo] + customers + u;
            is_first[t->first_row] = 1;
            at_first_row[t->first_row] = (uint32_t)o;
            results[o].last_row = t->last_row;
            results[o].n_purchases = t->n_purchases;
            results[o].total = t->total;
            results[o].first_value = t->first_value;
            results[o].profit = t->profit;
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

/* Rows [lo, hi): the number of first rows. */
int64_t wb_count_first(const uint8_t *is_first, int64_t lo, int64_t hi) {
    int64_t c = 0;
    for (int64_t i = lo; i < hi; i++) c += is_first[i];
    return c;
}

/*
 * Rows [lo, hi) in order: for each first row, copy its customer's result (results: the rows
 * array after wb_aggregate) to position c = c0, c0 + 1, ... of the output arrays, in order of
 * first appearance; day (optional) gives the first and last day numbers.
 */
void wb_collect(int64_t lo, int64_t hi, int64_t c0, const uint8_t *is_first,
                const uint32_t *at_first_row, const Row *rows, const int32_t *day,
                uint32_t *first_row, int32_t *n_purchases, double *total, double *first_value,
                double *profit, int32_t *first_day, int32_t *last_day) {
    const Result *results = (const Result *)rows;
    int64_t c = c0;
    for (int64_t i = lo; i < hi; i++) {
        if (!is_first[i]) continue;
        const Result *r = &results[at_first_row[i]];
        first_row[c] = (uint32_t)i;
        n_purchases[c] = r->n_purchases;
        total[c] = r->total;
        first_value[c] = r->first_value;
        if (profit) profit[c] = r->profit;
        if (day) {
            first_day[c] = day[i];
            last_day[c] = day[r->last_row];
        }
        c++;
    }
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
 * Stable least-significant-digit radix sort of 64-bit keys by 11-bit digits (6 passes at most;
 * digits on which all keys agree are skipped).  Keys travel with their indices, so every pass
 * reads and writes sequentially.  Writes the sorting permutation to perm.  Returns 0, or -1 when
 * out of memory.
 */
#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)
#define RADIX_PASSES 6

typedef struct {
    uint64_t key;
    int64_t index;
} Keyed;

int wb_radix_argsort(const uint64_t *keys, int64_t n, int64_t *perm) {
    size_t size = (size_t)(n > 0 ? n : 1) * sizeof(Keyed);
    Keyed *a = malloc(size), *b = malloc(size);
    int64_t(*count)[RADIX_SIZE] = calloc(RADIX_PASSES, sizeof *count);
    if (!a || !b || !count) {
        free(a);
        free(b);
        free(count);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = keys[i];
        a[i].key = k;
        a[i].index = i;
        for (int d = 0; d < RADIX_PASSES; d++) count[d][(k >> (d * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
    }
    for (int d = 0; d < RADIX_PASSES && n > 0; d++) {
        int shift = d * RADIX_BITS;
        if (count[d][(keys[0] >> shift) & (RADIX_SIZE - 1)] == n) continue;
        int64_t sum = 0;
        for (int v = 0; v < RADIX_SIZE; v++) {
            int64_t c = count[d][v];
            count[d][v] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++) b[count[d][(a[i].key >> shift) & (RADIX_SIZE - 1)]++] = a[i];
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
 * Mid-rank scoring (workbench/rfm.py): for each candidate c[j], twice its mid-rank count,
 * #(x < c) + #(x <= c), and the smallest value above it (+inf when none), in one pass.
 */
void wb_twice_midranks(const double *x, int64_t n, const double *candidates, int64_t m,
                       int64_t *twice, double *above) {
    for (int64_t j = 0; j < m; j++) {
        twice[j] = 0;
        above[j] = HUGE_VAL;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        for (int64_t j = 0; j < m; j++) {
            double c = candidates[j];
            if (v < c) twice[j] += 2;
            else if (v == c) twice[j] += 1;
            else if (v < above[j]) above[j] = v;
        }
    }
}

/* Scores 1 + #(thresholds <= x) for each value (thresholds ascending). */
void wb_threshold_scores(const double *x, int64_t n, const double *thresholds, int64_t m,
                         int8_t *out) {
    for (int64_t i = 0; i < n; i++) {
        int8_t score = 1;
        for (int64_t j = 0; j < m; j++) score += x[i] >= thresholds[j];
        out[i] = score;
    }
}

/* An importable (empty) module, so that the library installs and is found like any other. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels",
                                    "Compiled kernels, called through ctypes", -1, NULL,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
