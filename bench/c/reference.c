/*
 * reference.c - a faithful re-creation of the original HeadsNet dataset
 * generator ("DatasetGen", v2), used as the benchmark yardstick.
 *
 * What it computes is specified in the reference data's README (outside this
 * repository). In short, for every vertex of every PLY file given:
 *
 *   r2 = fma(z, z, fma(x, x, y*y)); pd = 1 - sqrt(r2)
 *   p  = (fma(pd, nx, x), fma(pd, ny, y), fma(pd, nz, z))
 *   brute force over the icosphere table q_i in order:
 *     d = sqrt(fma(dz, dz, fma(dx, dx, dy*dy))), d* = q* - p*
 *     the first strictly smallest d wins (running best starts at 9999)
 *   train_x row: float32 [model_id, float32(3*i) * float32(1/(3*N))]
 *   train_y row: float32 [x, y, z, r, g, b], colours * 0.003921569f
 *
 * all in float32. The original relied on -Ofast contracting a*b+c into fused
 * multiply-adds; here the fused operations are explicit fmaf() calls so the
 * result does not depend on what the compiler chooses to contract (with
 * -march=native on an FMA-capable x86 they are single vfmadd instructions).
 *
 * Like the original, every row is appended by fopen("ab")/fwrite/fclose on
 * train_x.dat and then on train_y.dat. That per-row open/close is part of
 * why the original was slow, and the benchmark reproduces it. --buffered
 * keeps the arithmetic identical but writes each file's rows with a single
 * fwrite per output file (used by the tests for speed).
 *
 * Build (as the reference's makefile): cc -Ofast -march=native -o reference reference.c -lm
 *
 * Usage: reference [--id F] [--buffered] ICOSPHERE.f32 OUT_DIR FILE.ply [FILE.ply ...]
 *
 * Assumes a little-endian host (x86-64, aarch64), like the original.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "reference.c writes float32 little-endian rows by memcpy: little-endian hosts only"
#endif

static const char *prog = "reference";

/* ------------------------------------------------------------------ PLY -- */

enum ply_format { PLY_ASCII, PLY_BLE, PLY_BBE };
enum ply_type { T_NONE, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_F32, T_F64 };

typedef struct {
    char name[64];
    enum ply_type type;       /* scalar type, or item type of a list */
    enum ply_type count_type; /* T_NONE for scalars */
} ply_prop;

typedef struct {
    char name[64];
    size_t count;
    int nprops;
    ply_prop *props;
} ply_elem;

static enum ply_type parse_type(const char *s) {
    static const struct { const char *n; enum ply_type t; } names[] = {
        {"char", T_I8},    {"int8", T_I8},     {"uchar", T_U8},   {"uint8", T_U8},
        {"short", T_I16},  {"int16", T_I16},   {"ushort", T_U16}, {"uint16", T_U16},
        {"int", T_I32},    {"int32", T_I32},   {"uint", T_U32},   {"uint32", T_U32},
        {"float", T_F32},  {"float32", T_F32}, {"double", T_F64}, {"float64", T_F64},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].n) == 0) return names[i].t;
    return T_NONE;
}

static size_t type_size(enum ply_type t) {
    switch (t) {
    case T_I8: case T_U8: return 1;
    case T_I16: case T_U16: return 2;
    case T_I32: case T_U32: case T_F32: return 4;
    case T_F64: return 8;
    default: return 0;
    }
}

/* A cursor over the file's body (the whole file is read into memory). */
typedef struct {
    const unsigned char *p, *end;
    enum ply_format fmt;
    int err;
} cursor;

/* Read one value of type t as a double. */
static double read_value(cursor *c, enum ply_type t) {
    if (c->err) return 0;
    if (c->fmt == PLY_ASCII) {
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')) c->p++;
        if (c->p >= c->end) { c->err = 1; return 0; }
        char *e;
        double v = strtod((const char *)c->p, &e); /* buffer is NUL-terminated */
        if (e == (const char *)c->p) { c->err = 1; return 0; }
        c->p = (const unsigned char *)e;
        return v;
    }
    size_t n = type_size(t);
    if ((size_t)(c->end - c->p) < n) { c->err = 1; return 0; }
    unsigned char b[8];
    if (c->fmt == PLY_BBE) for (size_t i = 0; i < n; i++) b[i] = c->p[n - 1 - i];
    else memcpy(b, c->p, n);
    c->p += n;
    switch (t) {
    case T_I8: { int8_t v; memcpy(&v, b, 1); return v; }
    case T_U8: return b[0];
    case T_I16: { int16_t v; memcpy(&v, b, 2); return v; }
    case T_U16: { uint16_t v; memcpy(&v, b, 2); return v; }
    case T_I32: { int32_t v; memcpy(&v, b, 4); return v; }
    case T_U32: { uint32_t v; memcpy(&v, b, 4); return v; }
    case T_F32: { float v; memcpy(&v, b, 4); return v; }
    case T_F64: { double v; memcpy(&v, b, 8); return v; }
    default: c->err = 1; return 0;
    }
}

/* Read (or skip) one property of one element instance; returns a scalar's
 * value, or 0 for a list (whose items are consumed). */
static double read_prop(cursor *c, const ply_prop *pr) {
    if (pr->count_type == T_NONE) return read_value(c, pr->type);
    double n = read_value(c, pr->count_type);
    if (c->err || n < 0) { c->err = 1; return 0; }
    if (c->fmt != PLY_ASCII) {
        size_t bytes = (size_t)n * type_size(pr->type);
        if ((size_t)(c->end - c->p) < bytes) { c->err = 1; return 0; }
        c->p += bytes;
    } else {
        for (size_t i = 0; i < (size_t)n && !c->err; i++) read_value(c, pr->type);
    }
    return 0;
}

typedef struct {
    size_t n;
    float *x, *y, *z, *nx, *ny, *nz, *r, *g, *b;
} model;

static void model_free(model *m) {
    free(m->x); /* one allocation */
    memset(m, 0, sizeof *m);
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 1 << 20;
            unsigned char *nb = realloc(buf, cap + 1);
            if (!nb) { free(buf); fclose(f); errno = ENOMEM; return NULL; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); errno = EIO; return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Load the vertices of a PLY file. Returns 0 on success, else prints an
 * error to stderr and returns -1. */
static int load_ply(const char *path, model *m) {
    memset(m, 0, sizeof *m);
    size_t len;
    unsigned char *buf = read_file(path, &len);
    if (!buf) { fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno)); return -1; }

    ply_elem elems[32];
    int nelems = 0, fmt = -1, rc = -1;
    memset(elems, 0, sizeof elems);
    const unsigned char *p = buf, *end = buf + len;
    const char *why = NULL;

    if (len < 4 || memcmp(buf, "ply", 3) != 0 || (buf[3] != '\n' && buf[3] != '\r')) { why = "not a PLY file (no 'ply' magic)"; goto bad; }
    for (;;) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) { why = "header has no end_header"; goto bad; }
        char line[512];
        size_t ll = (size_t)(nl - p);
        if (ll >= sizeof line) ll = sizeof line - 1;
        memcpy(line, p, ll);
        line[ll] = 0;
        if (ll && line[ll - 1] == '\r') line[--ll] = 0;
        p = nl + 1;

        char *save, *w = strtok_r(line, " \t", &save);
        if (!w) continue;
        if (strcmp(w, "end_header") == 0) break;
        if (strcmp(w, "ply") == 0 || strcmp(w, "comment") == 0 || strcmp(w, "obj_info") == 0) continue;
        if (strcmp(w, "format") == 0) {
            char *f = strtok_r(NULL, " \t", &save);
            if (!f) { why = "bad format line"; goto bad; }
            if (strcmp(f, "ascii") == 0) fmt = PLY_ASCII;
            else if (strcmp(f, "binary_little_endian") == 0) fmt = PLY_BLE;
            else if (strcmp(f, "binary_big_endian") == 0) fmt = PLY_BBE;
            else { why = "unknown format"; goto bad; }
        } else if (strcmp(w, "element") == 0) {
            char *name = strtok_r(NULL, " \t", &save), *cnt = strtok_r(NULL, " \t", &save);
            if (!name || !cnt) { why = "bad element line"; goto bad; }
            if (nelems == (int)(sizeof elems / sizeof elems[0])) { why = "too many elements"; goto bad; }
            char *e;
            errno = 0;
            unsigned long long cn = strtoull(cnt, &e, 10);
            if (*e || errno || cnt[0] == '-') { why = "bad element count"; goto bad; }
            ply_elem *el = &elems[nelems++];
            snprintf(el->name, sizeof el->name, "%s", name);
            el->count = (size_t)cn;
        } else if (strcmp(w, "property") == 0) {
            if (!nelems) { why = "property before any element"; goto bad; }
            ply_elem *el = &elems[nelems - 1];
            ply_prop pr;
            memset(&pr, 0, sizeof pr);
            char *t = strtok_r(NULL, " \t", &save);
            if (!t) { why = "bad property line"; goto bad; }
            if (strcmp(t, "list") == 0) {
                char *ct = strtok_r(NULL, " \t", &save), *it = strtok_r(NULL, " \t", &save);
                if (!ct || !it) { why = "bad list property line"; goto bad; }
                pr.count_type = parse_type(ct);
                pr.type = parse_type(it);
                if (pr.count_type == T_NONE || pr.type == T_NONE) { why = "unknown property type"; goto bad; }
            } else {
                pr.type = parse_type(t);
                if (pr.type == T_NONE) { why = "unknown property type"; goto bad; }
            }
            char *name = strtok_r(NULL, " \t", &save);
            if (!name) { why = "property without a name"; goto bad; }
            snprintf(pr.name, sizeof pr.name, "%s", name);
            ply_prop *np = realloc(el->props, sizeof *np * (size_t)(el->nprops + 1));
            if (!np) { why = "out of memory"; goto bad; }
            el->props = np;
            el->props[el->nprops++] = pr;
        } else {
            why = "unknown header keyword";
            goto bad;
        }
    }
    if (fmt < 0) { why = "header has no format line"; goto bad; }

    cursor c = { p, end, (enum ply_format)fmt, 0 };
    int vi = -1;
    for (int e = 0; e < nelems; e++) if (strcmp(elems[e].name, "vertex") == 0) { vi = e; break; }
    if (vi < 0) { why = "no vertex element"; goto bad; }

    /* skip any elements before the vertices */
    for (int e = 0; e < vi && !c.err; e++)
        for (size_t k = 0; k < elems[e].count && !c.err; k++)
            for (int j = 0; j < elems[e].nprops; j++) read_prop(&c, &elems[e].props[j]);
    if (c.err) { why = "file truncated before the vertex element"; goto bad; }

    /* map the vertex properties we want; others are read and ignored */
    static const char *want[9] = {"x", "y", "z", "nx", "ny", "nz", "red", "green", "blue"};
    const ply_elem *ve = &elems[vi];
    int *slot = malloc(sizeof *slot * (size_t)(ve->nprops ? ve->nprops : 1));
    if (!slot) { why = "out of memory"; goto bad; }
    int have[9] = {0};
    for (int j = 0; j < ve->nprops; j++) {
        slot[j] = -1;
        if (ve->props[j].count_type != T_NONE) continue;
        for (int k = 0; k < 9; k++)
            if (strcmp(ve->props[j].name, want[k]) == 0) { slot[j] = k; have[k] = 1; }
    }
    if (!have[0] || !have[1] || !have[2]) { free(slot); why = "vertex element lacks x, y or z"; goto bad; }

    size_t n = ve->count;
    float *mem = calloc(n ? 9 * n : 1, sizeof(float)); /* missing normals/colours stay 0 */
    if (!mem) { free(slot); why = "out of memory"; goto bad; }
    float *col[9];
    for (int k = 0; k < 9; k++) col[k] = mem + (size_t)k * n;
    for (size_t i = 0; i < n && !c.err; i++)
        for (int j = 0; j < ve->nprops; j++) {
            double v = read_prop(&c, &ve->props[j]);      /* read as double */
            if (slot[j] >= 0) col[slot[j]][i] = (float)v; /* stored as float32 */
        }
    free(slot);
    if (c.err) { free(mem); why = "file truncated or malformed in the vertex element"; goto bad; }
    /* colours: multiplied in float32 by the float32 constant 0.003921569 */
    for (size_t i = 0; i < n; i++) {
        col[6][i] = col[6][i] * 0.003921569f;
        col[7][i] = col[7][i] * 0.003921569f;
        col[8][i] = col[8][i] * 0.003921569f;
    }
    m->n = n;
    m->x = col[0]; m->y = col[1]; m->z = col[2];
    m->nx = col[3]; m->ny = col[4]; m->nz = col[5];
    m->r = col[6]; m->g = col[7]; m->b = col[8];
    rc = 0;
    goto done;
bad:
    fprintf(stderr, "%s: %s: bad PLY: %s\n", prog, path, why);
done:
    for (int e = 0; e < nelems; e++) free(elems[e].props);
    free(buf);
    return rc;
}

/* ----------------------------------------------------------- algorithm -- */

/* Index of the nearest icosphere vertex to p: first strictly smallest d. NO_INDEX when no vertex
 * is nearer than 9999 (the running best's start): the original then writes no row. */
#define NO_INDEX UINT32_MAX
static uint32_t nearest(const float *ico, uint32_t nico, float px, float py, float pz) {
    float best = 9999.0f;
    uint32_t bi = NO_INDEX;
    for (uint32_t i = 0; i < nico; i++) {
        float dx = ico[3 * i] - px;
        float dy = ico[3 * i + 1] - py;
        float dz = ico[3 * i + 2] - pz;
        float d = sqrtf(fmaf(dz, dz, fmaf(dx, dx, dy * dy)));
        if (d < best) { best = d; bi = i; }
    }
    return bi;
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s) { perror(prog); exit(2); }
    memcpy(s, dir, a);
    s[a] = '/';
    memcpy(s + a + 1, name, b + 1);
    return s;
}

static void append(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "ab");
    if (!f) { fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno)); exit(2); }
    if (len && fwrite(data, 1, len, f) != len) { fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno)); exit(2); }
    if (fclose(f) != 0) { fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno)); exit(2); }
}

static float random_id(void) {
    uint32_t u;
    if (getrandom(&u, sizeof u, 0) != (ssize_t)sizeof u) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(&u, sizeof u, 1, f) != 1) { fprintf(stderr, "%s: no random source\n", prog); exit(2); }
        fclose(f);
    }
    return (float)u * (1.0f / 4294967295.0f);
}

static void usage(void) {
    fprintf(stderr,
            "usage: %s [--id F] [--buffered] ICOSPHERE.f32 OUT_DIR FILE.ply [FILE.ply ...]\n"
            "  appends rows for each PLY file to OUT_DIR/train_x.dat and OUT_DIR/train_y.dat\n"
            "  --id F       use model id F for every file (default: a random id per file)\n"
            "  --buffered   one fwrite per output file per PLY instead of fopen/fwrite/fclose per row\n"
            "               (same arithmetic and output bytes; the original opened and closed per row)\n",
            prog);
    exit(2);
}

int main(int argc, char **argv) {
    int have_id = 0, buffered = 0;
    float fixed_id = 0;
    int a = 1;
    for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
        if (strcmp(argv[a], "--") == 0) { a++; break; }
        if (strcmp(argv[a], "--id") == 0 && a + 1 < argc) {
            char *e;
            fixed_id = strtof(argv[++a], &e);
            if (*e || e == argv[a]) { fprintf(stderr, "%s: bad --id value '%s'\n", prog, argv[a]); usage(); }
            have_id = 1;
        } else if (strcmp(argv[a], "--buffered") == 0) {
            buffered = 1;
        } else if (strcmp(argv[a], "--help") == 0) {
            usage();
        } else {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, argv[a]);
            usage();
        }
    }
    if (argc - a < 3) usage();
    const char *ico_path = argv[a], *out_dir = argv[a + 1];

    /* icosphere table: raw float32 LE x y z triples */
    size_t ico_len;
    unsigned char *ico_raw = read_file(ico_path, &ico_len);
    if (!ico_raw) { fprintf(stderr, "%s: cannot open %s: %s\n", prog, ico_path, strerror(errno)); return 2; }
    if (ico_len == 0 || ico_len % 12 != 0) {
        fprintf(stderr, "%s: %s: icosphere table size %zu is not a positive multiple of 12 bytes\n", prog, ico_path, ico_len);
        return 2;
    }
    uint32_t nico = (uint32_t)(ico_len / 12);
    float *ico = malloc(ico_len);
    if (!ico) { perror(prog); return 2; }
    memcpy(ico, ico_raw, ico_len);
    free(ico_raw);
    /* index value = float32(3*i) * float32(1/(3*N)): what -Ofast made of the
     * original's division by the table's float count (3 * 10242 = 30726) */
    const float inv = 1.0f / (float)(3u * nico);

    char *px_path = join(out_dir, "train_x.dat"), *py_path = join(out_dir, "train_y.dat");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t files = 0, rows = 0;
    int failed = 0;
    for (int k = a + 2; k < argc; k++) {
        model m;
        if (load_ply(argv[k], &m) != 0) { failed = 1; continue; }
        const float id = have_id ? fixed_id : random_id();
        float *bx = NULL, *by = NULL;
        if (buffered) {
            bx = malloc(sizeof(float) * 2 * (m.n ? m.n : 1));
            by = malloc(sizeof(float) * 6 * (m.n ? m.n : 1));
            if (!bx || !by) { perror(prog); return 2; }
        }
        size_t written = 0;
        for (size_t i = 0; i < m.n; i++) {
            const float x = m.x[i], y = m.y[i], z = m.z[i];
            const float r2 = fmaf(z, z, fmaf(x, x, y * y));
            const float pd = 1.0f - sqrtf(r2);
            const float px = fmaf(pd, m.nx[i], x);
            const float py = fmaf(pd, m.ny[i], y);
            const float pz = fmaf(pd, m.nz[i], z);
            const uint32_t idx = nearest(ico, nico, px, py, pz);
            if (idx == NO_INDEX) continue;
            const float rx[2] = {id, (float)(3u * idx) * inv};
            const float ry[6] = {x, y, z, m.r[i], m.g[i], m.b[i]};
            if (buffered) {
                memcpy(bx + 2 * written, rx, sizeof rx);
                memcpy(by + 6 * written, ry, sizeof ry);
            } else {
                append(px_path, rx, sizeof rx);
                append(py_path, ry, sizeof ry);
            }
            written++;
        }
        if (buffered) {
            append(px_path, bx, sizeof(float) * 2 * written);
            append(py_path, by, sizeof(float) * 6 * written);
            free(bx);
            free(by);
        }
        files++;
        rows += written;
        model_free(&m);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    fprintf(stderr, "%s: %zu files, %zu rows, %.3f s, %.0f rows/s\n", prog, files, rows, s, s > 0 ? (double)rows / s : 0.0);
    free(ico);
    free(px_path);
    free(py_path);
    return failed ? 1 : 0;
}
