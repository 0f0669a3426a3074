/*
 * Compiled kernels of the workbench (loaded with ctypes by workbench/native/kernels.py).
 *
 * 1. A radix-partitioned hash aggregation of a transaction log per customer, for the customer
 *    summary (workbench/native/customer_scan.py explains the method):
 *      wb_histogram_ids, wb_scatter_ids  stable partition of the rows into buckets by the hash
 *                                        of the customer id (wb_histogram, wb_scatter: from
 *                                        hashes the caller computed);
 *      wb_aggregate                      per bucket, a cache-sized open-addressing table;
 *      wb_count_first, wb_first_rows,    the customers in order of first appearance (or any
 *      wb_gather_results                 order the caller gives) and their results.
 * 2. Sorting helpers: wb_view_prefix (first 8 bytes of Arrow string views as big-endian
 *    integers) and wb_radix_argsort (stable LSD radix sort of 64-bit keys).
 * 3. wb_release: releases an exported Arrow array and its schema.
 *
 * The boundary.  Input columns arrive as Arrow C data interface structs (struct ArrowSchema and
 * struct ArrowArray, https://arrow.apache.org/docs/format/CDataInterface.html), one chunk at a
 * time, exported by pyarrow without copying: customer ids as string views (format "vu"), days
 * and periods as "i" or "tdD" (int32), money as "g" (float64), precomputed hashes as "l" or "L".
 * Before reading a chunk a kernel checks the format string, that neither struct is released,
 * the buffer count, no children or dictionary, no nulls, a non-negative offset and length, and
 * that the rows asked for lie inside the array; each string view it reads is checked too
 * (length >= 0; an out-of-line view's buffer index < number of data buffers and offset + length
 * <= that buffer's size, from the variadic sizes buffer).  Every index into a work array is
 * checked against that array's length.  A failed check returns an error code (WB_E_*) and fills
 * where[5] = {column, row, detail...}; workbench/native/kernels.py turns it into an exception.  The
 * caller owns the structs and releases them (wb_release) once every kernel is done.
 *
 * Every function works on caller-owned arrays, allocates only its own scratch space, holds no
 * global state and may run in several threads at once on disjoint work.  Row arguments of the
 * partition functions name the first row of the piece they handle within its chunk; row0 is
 * that row's number in the whole table.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- The Arrow C data interface (ABI-stable structs, as the Arrow specification gives them) */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif

/* A column piece: one exported chunk and the first row of the piece within it. */
typedef struct {
    const struct ArrowSchema *schema;
    const struct ArrowArray *array;
    int64_t lo;
} Column;

/* Error codes (workbench/native/kernels.py has the same table and a message for each). */
enum {
    WB_OK = 0,
    WB_E_RELEASED = 1,    /* a NULL or already released struct */
    WB_E_FORMAT = 2,      /* the format string is not the one expected */
    WB_E_LAYOUT = 3,      /* buffer count, children, dictionary or a NULL buffer */
    WB_E_NULLS = 4,       /* the array has (or may have) nulls */
    WB_E_RANGE = 5,       /* negative length or offset, or rows asked for beyond the array */
    WB_E_VIEW_LENGTH = 6, /* a string view with a negative length */
    WB_E_VIEW_BUFFER = 7, /* an out-of-line view's buffer index is not a data buffer */
    WB_E_VIEW_BOUNDS = 8, /* an out-of-line view's bytes run past the end of its buffer */
    WB_E_SIZES = 9,       /* a negative variadic buffer size */
    WB_E_INDEX = 10,      /* an index into a work array is out of range */
    WB_E_NOMEM = 11       /* out of memory */
};

/* Columns named in where[0]. */
enum { COL_IDS = 0, COL_DAY = 1, COL_PERIOD = 2, COL_AMOUNT = 3, COL_PROFIT = 4, COL_H2 = 5,
       COL_WORK = 6 };

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline int fail(int code, int64_t *where, int64_t column, int64_t row, int64_t a,
                       int64_t b, int64_t c) {
    if (where) {
        where[0] = column;
        where[1] = row;
        where[2] = a;
        where[3] = b;
        where[4] = c;
    }
    return code;
}

static int format_is(const struct ArrowSchema *s, const char *f1, const char *f2) {
    return s->format && (strcmp(s->format, f1) == 0 || (f2 && strcmp(s->format, f2) == 0));
}

/* Checks common to every array: not released, format f1 (or f2), no children, no dictionary,
 * a sane offset and length, rows [lo, lo + n) inside it, no nulls, n_buffers as expected
 * (exactly, or at least). */
static int check_array(const Column *col, int64_t n, const char *f1, const char *f2,
                       int64_t n_buffers, int at_least, int64_t column, int64_t *where) {
    const struct ArrowSchema *s = col ? col->schema : NULL;
    const struct ArrowArray *a = col ? col->array : NULL;
    if (!s || !a || !s->release || !a->release)
        return fail(WB_E_RELEASED, where, column, 0, 0, 0, 0);
    if (!format_is(s, f1, f2)) return fail(WB_E_FORMAT, where, column, 0, 0, 0, 0);
    if (s->n_children != 0 || a->n_children != 0 || s->dictionary || a->dictionary)
        return fail(WB_E_LAYOUT, where, column, 0, a->n_buffers, n_buffers, 0);
    if (a->length < 0 || a->offset < 0 || a->offset > (INT64_MAX >> 5) - a->length)
        return fail(WB_E_RANGE, where, column, col->lo, n, a->length, a->offset);
    if (col->lo < 0 || n < 0 || col->lo > a->length - n)
        return fail(WB_E_RANGE, where, column, col->lo, n, a->length, a->offset);
    if (!a->buffers || (at_least ? a->n_buffers < n_buffers : a->n_buffers != n_buffers))
        return fail(WB_E_LAYOUT, where, column, 0, a->n_buffers, n_buffers, 0);
    /* validity: without a bitmap there are no nulls; with one, only a known zero count is ok */
    if (a->null_count > 0 || (a->null_count != 0 && a->buffers[0] != NULL))
        return fail(WB_E_NULLS, where, column, 0, a->null_count, 0, 0);
    if (a->length > 0 && !a->buffers[1])
        return fail(WB_E_LAYOUT, where, column, 0, a->n_buffers, n_buffers, 0);
    return WB_OK;
}

/* A fixed-width column's values from row col->lo on (after every check). */
static int import_values(const Column *col, int64_t n, const char *f1, const char *f2,
                         int64_t width, int64_t column, const void **values, int64_t *where) {
    int code = check_array(col, n, f1, f2, 2, 0, column, where);
    if (code) return code;
    const struct ArrowArray *a = col->array;
    *values = (const uint8_t *)a->buffers[1] + width * (a->offset + col->lo);
    return WB_OK;
}

/* ---- Arrow string views (16 bytes each) ------------------------------------------------
 * A view starts with the string's length; strings of at most 12 bytes follow inline, longer ones
 * have a 4-byte prefix, then the index of their data buffer and their offset in it.  The
 * exported array's buffers are: validity, views, the data buffers, then the data buffers' sizes
 * (int64 each). */
typedef struct {
    const uint8_t *views; /* the view of row col->lo */
    const uint8_t *const *data;
    const int64_t *sizes;
    int64_t n_data;
    int64_t lo; /* col->lo: rows reported in errors are rows of the chunk */
} Views;

static int import_views(const Column *col, int64_t n, Views *v, int64_t *where) {
    int code = check_array(col, n, "vu", NULL, 3, 1, COL_IDS, where);
    if (code) return code;
    const struct ArrowArray *a = col->array;
    v->n_data = a->n_buffers - 3;
    v->data = (const uint8_t *const *)(a->buffers + 2);
    v->sizes = (const int64_t *)a->buffers[a->n_buffers - 1];
    v->views = (const uint8_t *)a->buffers[1] + 16 * (a->offset + col->lo);
    v->lo = col->lo;
    if (v->n_data > 0 && !v->sizes)
        return fail(WB_E_LAYOUT, where, COL_IDS, 0, a->n_buffers, 3, 0);
    for (int64_t k = 0; k < v->n_data; k++) {
        if (v->sizes[k] < 0) return fail(WB_E_SIZES, where, COL_IDS, 0, k, v->sizes[k], 0);
        if (v->sizes[k] > 0 && !v->data[k])
            return fail(WB_E_LAYOUT, where, COL_IDS, 0, a->n_buffers, 3, 0);
    }
    return WB_OK;
}

/* The bytes of view i (relative to the piece), after checking it points inside its buffer. */
static inline int view_bytes(const Views *v, int64_t i, const uint8_t **p, int32_t *len,
                             int64_t *where) {
    const uint8_t *view = v->views + 16 * i;
    int32_t n, index, offset;
    memcpy(&n, view, 4);
    *len = n;
    if (n <= 12) {
        if (UNLIKELY(n < 0)) return fail(WB_E_VIEW_LENGTH, where, COL_IDS, v->lo + i, n, 0, 0);
        *p = view + 4;
        return WB_OK;
    }
    memcpy(&index, view + 8, 4);
    memcpy(&offset, view + 12, 4);
    if (UNLIKELY(index < 0 || index >= v->n_data))
        return fail(WB_E_VIEW_BUFFER, where, COL_IDS, v->lo + i, index, v->n_data, 0);
    if (UNLIKELY(offset < 0 || (int64_t)offset + n > v->sizes[index]))
        return fail(WB_E_VIEW_BOUNDS, where, COL_IDS, v->lo + i, index, (int64_t)offset + n,
                    v->sizes[index]);
    *p = v->data[index] + offset;
    return WB_OK;
}

/* Releases an exported array and its schema (either may be NULL or released already). */
void wb_release(struct ArrowSchema *schema, struct ArrowArray *array) {
    if (array && array->release) array->release(array);
    if (schema && schema->release) schema->release(schema);
}

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

/* Bumped whenever a function's arguments change: workbench/native/kernels.py refuses another version. */
#define WB_ABI_VERSION 4

int wb_abi_version(void) { return WB_ABI_VERSION; }

_Static_assert(sizeof(Row) == 32 && sizeof(Result) == 32 && sizeof(Slot) == 64, "layouts");

static inline int64_t bucket_of(int64_t h, int shift, int64_t bmask) {
    return shift >= 64 ? 0 : (int64_t)((uint64_t)h >> shift) & bmask;
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

/* counts must hold bmask + 1 buckets (bucket_of never exceeds bmask). */

/* Ids of one piece (n rows of one chunk): count per bucket of their key hashes. */
int wb_histogram_ids(const Column *ids, int64_t n, int shift, int64_t bmask, int64_t *counts,
                     int64_t *where) {
    Views v;
    int code = import_views(ids, n, &v, where);
    if (code) return code;
    for (int64_t i = 0; i < n; i++) {
        int32_t len;
        const uint8_t *p;
        if (UNLIKELY((code = view_bytes(&v, i, &p, &len, where)))) return code;
        counts[bucket_of((int64_t)hash_key(p, len), shift, bmask)]++;
    }
    return WB_OK;
}

/* Rows of one piece, keyed by hashes the caller computed ("l" or "L"): count per bucket. */
int wb_histogram(const Column *h1, int64_t n, int shift, int64_t bmask, int64_t *counts,
                 int64_t *where) {
    const int64_t *h;
    int code = import_values(h1, n, "l", "L", 8, COL_IDS, (const void **)&h, where);
    if (code) return code;
    for (int64_t i = 0; i < n; i++) counts[bucket_of(h[i], shift, bmask)]++;
    return WB_OK;
}

/* The value columns of one piece (profit may be NULL). */
typedef struct {
    const int32_t *day, *period;
    const double *amount, *profit;
} Values;

static int import_piece(const Column *day, const Column *period, const Column *amount,
                        const Column *profit, int64_t n, Values *out, int64_t *where) {
    int code;
    out->profit = NULL;
    if ((code = import_values(day, n, "i", "tdD", 4, COL_DAY, (const void **)&out->day, where)))
        return code;
    if ((code = import_values(period, n, "i", "tdD", 4, COL_PERIOD, (const void **)&out->period,
                              where)))
        return code;
    if ((code = import_values(amount, n, "g", NULL, 8, COL_AMOUNT, (const void **)&out->amount,
                              where)))
        return code;
    if (profit && (code = import_values(profit, n, "g", NULL, 8, COL_PROFIT,
                                        (const void **)&out->profit, where)))
        return code;
    return WB_OK;
}

/* Row i of the piece into rows[cursor[bucket]++], after checking that slot is in rows. */
static inline int put_row(Row *rows, int64_t capacity, int64_t *cursor, int64_t bucket,
                          int64_t h1, uint64_t h2, int64_t i, int64_t row0, const int32_t *day,
                          const int32_t *period, const double *amount, const double *profit,
                          double *out_profit, int64_t *where) {
    int64_t j = cursor[bucket]++;
    if (UNLIKELY(j < 0 || j >= capacity))
        return fail(WB_E_INDEX, where, COL_WORK, row0 + i, j, capacity, 0);
    rows[j].h1 = h1;
    rows[j].h2 = (uint32_t)h2;
    rows[j].day = day[i];
    rows[j].period = period[i];
    rows[j].row = (uint32_t)(row0 + i);
    rows[j].amount = amount[i];
    if (profit) out_profit[j] = profit[i];
    return WB_OK;
}

/* row0 + n must fit the row numbers (uint32) and the work arrays (capacity rows). */
static int check_rows(int64_t row0, int64_t n, int64_t capacity, int64_t *where) {
    if (row0 < 0 || n < 0 || capacity > 4294967295LL || row0 > capacity - n)
        return fail(WB_E_INDEX, where, COL_WORK, row0, n, capacity, 0);
    return WB_OK;
}

/* Ids of one piece: hash and copy into rows (profit into out_profit) at cursor[bucket]; rows
 * and out_profit hold capacity rows. */
int wb_scatter_ids(const Column *ids, int64_t n, int64_t row0, const Column *day,
                   const Column *period, const Column *amount, const Column *profit, int shift,
                   int64_t bmask, int64_t *cursor, Row *rows, double *out_profit,
                   int64_t capacity, int64_t *where) {
    Views v;
    Values values;
    int code;
    if ((code = check_rows(row0, n, capacity, where))) return code;
    if ((code = import_views(ids, n, &v, where))) return code;
    if ((code = import_piece(day, period, amount, profit, n, &values, where))) return code;
    if (profit && !out_profit) return fail(WB_E_INDEX, where, COL_WORK, row0, 0, 0, 0);
    const int32_t *day_v = values.day, *period_v = values.period;
    const double *amount_v = values.amount, *profit_v = values.profit;
    for (int64_t i = 0; i < n; i++) {
        int32_t len;
        const uint8_t *p;
        if (UNLIKELY((code = view_bytes(&v, i, &p, &len, where)))) return code;
        int64_t h = (int64_t)hash_key(p, len);
        if (UNLIKELY((code = put_row(rows, capacity, cursor, bucket_of(h, shift, bmask), h,
                                     hash_check(p, len), i, row0, day_v, period_v, amount_v,
                                     profit_v, out_profit, where))))
            return code;
    }
    return WB_OK;
}

/* Rows of one piece, keyed by hashes the caller computed: copy into their buckets. */
int wb_scatter(const Column *h1, const Column *h2, int64_t n, int64_t row0, const Column *day,
               const Column *period, const Column *amount, const Column *profit, int shift,
               int64_t bmask, int64_t *cursor, Row *rows, double *out_profit, int64_t capacity,
               int64_t *where) {
    const int64_t *a, *b;
    Values values;
    int code;
    if ((code = check_rows(row0, n, capacity, where))) return code;
    if ((code = import_values(h1, n, "l", "L", 8, COL_IDS, (const void **)&a, where))) return code;
    if ((code = import_values(h2, n, "l", "L", 8, COL_H2, (const void **)&b, where))) return code;
    if ((code = import_piece(day, period, amount, profit, n, &values, where))) return code;
    if (profit && !out_profit) return fail(WB_E_INDEX, where, COL_WORK, row0, 0, 0, 0);
    const int32_t *day_v = values.day, *period_v = values.period;
    const double *amount_v = values.amount, *profit_v = values.profit;
    for (int64_t i = 0; i < n; i++)
        if (UNLIKELY((code = put_row(rows, capacity, cursor, bucket_of(a[i], shift, bmask), a[i],
                                     (uint64_t)b[i], i, row0, day_v, period_v, amount_v,
                                     profit_v, out_profit, where))))
            return code;
    return WB_OK;
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
 * Aggregate buckets [b_lo, b_hi) of the n_rows partitioned rows (starts: n_buckets + 1 bucket
 * starts).  The results are written compactly from results[starts[b_lo]] on (results may be the
 * rows array itself: a customer has at least one row and Result and Row are both 32 bytes, so
 * only rows already read are overwritten), with the profit sums at the same index of
 * results_profit.  is_first marks each customer's first row and at_first_row there holds the
 * index of its result; shares marks rows that share a customer and period with another, and
 * at_first_row at such a row (unless it is a first row) holds its customer's first row.
 * status: [0] customers, [1] hash collision seen, [2] a period went backwards.
 */
int wb_aggregate(const Row *rows, const double *profit, const int64_t *starts, int64_t n_buckets,
                 int64_t n_rows, int64_t b_lo, int64_t b_hi, int64_t expected, Result *results,
                 double *results_profit, uint32_t *at_first_row, uint8_t *is_first,
                 uint8_t *shares, int64_t *status, int64_t *where) {
    if (b_lo < 0 || b_hi < b_lo || b_hi > n_buckets)
        return fail(WB_E_INDEX, where, COL_WORK, 0, b_lo, b_hi, n_buckets);
    for (int64_t b = b_lo; b <= b_hi; b++)
        if (starts[b] < 0 || starts[b] > n_rows || (b > b_lo && starts[b] < starts[b - 1]))
            return fail(WB_E_INDEX, where, COL_WORK, 0, b, starts[b], n_rows);
    int64_t cap = 64;
    while (cap < 2 * expected) cap *= 2;
    Slot *table = calloc((size_t)cap, sizeof(Slot));
    int64_t *used = malloc((size_t)(cap / 2) * sizeof(int64_t));
    int64_t customers = 0;
    int collision = 0, unsorted = 0, code = WB_OK;
    if (!table || !used) goto oom;
    for (int64_t b = b_lo; b < b_hi; b++) {
        int64_t k = 0, mask = cap - 1;
        for (int64_t j = starts[b]; j < starts[b + 1]; j++) {
            const Row r = rows[j];
            if (UNLIKELY((int64_t)r.row >= n_rows)) {
                code = fail(WB_E_INDEX, where, COL_WORK, j, r.row, n_rows, 0);
                goto out;
            }
            int64_t s = find_slot(table, mask, r.h1);
            Slot *t = &table[s];
            if (t->n_purchases == 0) {
                if (2 * (k + 1) > cap) {
                    Slot *bigger = grow(table, &cap, used, k);
                    if (!bigger) goto oom;
                    table = bigger;
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
        /* rows [starts[b], starts[b + 1]) are read: results may overwrite them now (a bucket
         * has at least as many rows as customers, so o < starts[b + 1] <= n_rows) */
        for (int64_t u = 0; u < k; u++) {
            Slot *t = &table[used[u]];
            int64_t o = starts[b_lo] + customers + u;
            if (UNLIKELY(o >= starts[b + 1])) {
                code = fail(WB_E_INDEX, where, COL_WORK, 0, o, starts[b + 1], 0);
                goto out;
            }
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
    status[0] = customers;
    status[1] = collision;
    status[2] = unsorted;
out:
    free(table);
    free(used);
    return code;
oom:
    code = fail(WB_E_NOMEM, where, COL_WORK, 0, 0, 0, 0);
    goto out;
}

/*
 * The results of the customers whose first rows are first_row[order[c]], c in [0, k) (order may
 * be NULL: c itself), into the output arrays.  first_row holds n_first rows, at_first_row,
 * results and results_profit n_rows.
 */
int wb_gather_results(const Result *results, const double *results_profit,
                      const uint32_t *at_first_row, int64_t n_rows, const uint32_t *first_row,
                      int64_t n_first, const int64_t *order, int64_t c_lo, int64_t c_hi,
                      int32_t *n_purchases, double *total, double *first_value, double *profit,
                      int32_t *first_day, int32_t *last_day, int64_t *where) {
    if (profit && !results_profit) return fail(WB_E_INDEX, where, COL_WORK, c_lo, 0, 0, 0);
    for (int64_t c = c_lo; c < c_hi; c++) {
        int64_t f = order ? order[c] : c;
        if (UNLIKELY(f < 0 || f >= n_first))
            return fail(WB_E_INDEX, where, COL_WORK, c, f, n_first, 0);
        if (UNLIKELY((int64_t)first_row[f] >= n_rows))
            return fail(WB_E_INDEX, where, COL_WORK, c, first_row[f], n_rows, 0);
        uint32_t o = at_first_row[first_row[f]];
        if (UNLIKELY((int64_t)o >= n_rows)) return fail(WB_E_INDEX, where, COL_WORK, c, o, n_rows, 0);
        const Result *r = &results[o];
        n_purchases[c] = r->n_purchases;
        total[c] = r->total;
        first_value[c] = r->first_value;
        first_day[c] = r->first_day;
        last_day[c] = r->last_day;
        if (profit) profit[c] = results_profit[o];
    }
    return WB_OK;
}

/* Rows [lo, hi) of is_first (n rows): the number of first rows, into *count. */
int wb_count_first(const uint8_t *is_first, int64_t n, int64_t lo, int64_t hi, int64_t *count,
                   int64_t *where) {
    if (lo < 0 || hi < lo || hi > n) return fail(WB_E_INDEX, where, COL_WORK, lo, hi, n, 0);
    int64_t c = 0;
    for (int64_t i = lo; i < hi; i++) c += is_first[i];
    *count = c;
    return WB_OK;
}

/* Rows [lo, hi) in order: the first rows, written to first_row[c0], first_row[c0 + 1], ...
 * (first_row holds n_first entries). */
int wb_first_rows(int64_t lo, int64_t hi, int64_t c0, const uint8_t *is_first, int64_t n,
                  uint32_t *first_row, int64_t n_first, int64_t *where) {
    if (lo < 0 || hi < lo || hi > n || c0 < 0) return fail(WB_E_INDEX, where, COL_WORK, lo, hi, n, 0);
    int64_t c = c0;
    for (int64_t i = lo; i < hi; i++) {
        if (!is_first[i]) continue;
        if (UNLIKELY(c >= n_first)) return fail(WB_E_INDEX, where, COL_WORK, i, c, n_first, 0);
        first_row[c++] = (uint32_t)i;
    }
    return WB_OK;
}

/*
 * n ids of one chunk (string views): the first 8 bytes of each string as a big-endian integer,
 * zero-padded, so that integer order is byte order.  *fits is 1, or 0 as soon as a string is
 * longer than 8 bytes or contains a zero byte (then integer order could differ from byte order;
 * the rest is not read).  Returns WB_OK or an error code.
 */
int wb_view_prefix(const Column *ids, int64_t n, uint64_t *out, int *fits, int64_t *where) {
    Views v;
    int code = import_views(ids, n, &v, where);
    *fits = 0;
    if (code) return code;
    for (int64_t i = 0; i < n; i++) {
        int32_t len;
        const uint8_t *p;
        if (UNLIKELY((code = view_bytes(&v, i, &p, &len, where)))) return code;
        if (len > 8) return WB_OK;
        uint64_t key = 0;
        for (int b = 0; b < 8; b++) {
            uint8_t byte = b < len ? p[b] : 0;
            if (b < len && byte == 0) return WB_OK;
            key = (key << 8) | byte;
        }
        out[i] = key;
    }
    *fits = 1;
    return WB_OK;
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
 * and Polars (str.contains) do; they are in workbench/native/kernels.py as NumPy / Polars code.
 */

/* An importable (empty) module, so that the library installs and is found like any other. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels",
                                    "Compiled kernels, called through ctypes", -1, NULL,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
