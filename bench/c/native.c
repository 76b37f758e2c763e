/*
 * native.c - headsnet's algorithm in the best native C we can write: the
 * peer that shows how close the WebAssembly kernel comes to native code.
 *
 * It writes the same rows as the reference DatasetGen (the reference data's
 * README) and as headsnet's legacy projection, bit for bit:
 *
 *   r2 = fma(z, z, fma(x, x, y*y)); pd = 1 - sqrt(r2)
 *   p  = (fma(pd, nx, x), fma(pd, ny, y), fma(pd, nz, z))
 *   i  = the reference's nearest icosphere vertex to p (first strictly
 *        smallest sqrt(fma(dz, dz, fma(dx, dx, dy*dy))), best starts at 9999)
 *   train_x row: float32 [model_id, float32(3*i) * float32(1/(3*N))]
 *   train_y row: float32 [x, y, z, r, g, b], colours * 0.003921569f
 *
 * but finds i the way headsnet does instead of by brute force:
 *
 *   - the cube map of src/spatial-hash.ts (ported to C, in double, with the
 *     same grid choice, margins and refinement; the build is bit-identical,
 *     which --dump-tables lets the tests check),
 *   - the query of assembly/nearest.ts: rank the cell's candidates by the
 *     float64 squared distance of the reference's float32 differences; if
 *     no other comes within TIE_SLACK of the best, that is the answer; else
 *     re-rank the close ones with the reference's fused float32 distance,
 *     ties to the lower index,
 *   - brute force (the reference loop) for points outside the radius band
 *     [HASH_RMIN, HASH_RMAX] and for non-finite points.
 *
 * What native code adds on top: each cell's candidates are stored in
 * 64-byte blocks of 4 with their coordinates inline (one cache line for
 * almost every cell) and ranked 4 at a time with AVX2 (the same float64
 * values as the scalar ranking); vertices go through the query in blocks of
 * 32 whose cells and candidates are prefetched before any is ranked (head
 * meshes list vertices in no spatial order, so one query at a time waits on
 * a cache miss or two); the brute force, when needed, runs 8 lanes wide and
 * returns the lowest index holding the minimum (the same answer as the
 * first strictly smaller distance in table order).
 *
 * The fused operations are hardware fmaf() (exactly the reference's -Ofast
 * contraction; the WebAssembly kernel has to emulate it). Everything else
 * is compiled without contraction (see the pragma below) so that the double
 * arithmetic is the same as JavaScript's.
 *
 * Files are read with one read() each into a reused buffer. Binary PLY with
 * fixed-size vertex records (Blender's layout, any property order and
 * types, either byte order) is decoded straight from that buffer; ASCII and
 * vertex records holding lists go through a generic reader like reference.c.
 * Rows go into per-file buffers written with one write() per output file.
 * With -j N, N threads compile files into a ring of 2N buffers and the main
 * thread writes them in argument order.
 *
 * Like the reference, rows are appended to OUT_DIR/train_x.dat and
 * OUT_DIR/train_y.dat (existing files grow), unreadable or malformed files
 * are reported and skipped (exit status 1), and non-finite values are not
 * rejected (they take the brute force, as the reference would).
 *
 * Build: cc -O3 -march=native -pthread -o native native.c -lm
 *
 * Usage:
 *   native [-j N] [--id F] (ICOSPHERE.f32 | --level L) OUT_DIR FILE.ply [FILE.ply ...]
 *   native --micro (ICOSPHERE.f32 | --level L) [QUERIES [BRUTE_QUERIES]]
 *   native --dump-tables (ICOSPHERE.f32 | --level L) OUT_DIR
 *
 * Assumes a little-endian host (x86-64, aarch64), like the original.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define HAVE_AVX2_FMA 1
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "native.c loads and writes float32 little-endian values by memcpy: little-endian hosts only"
#endif
#if defined(__FAST_MATH__)
#error "native.c must not be built with -ffast-math/-Ofast: the cube map and the query rely on IEEE double arithmetic"
#endif
/* No contraction of a*b+c in double code: the cube map build and the float64
 * ranking must round like JavaScript/WebAssembly. (The fused float32
 * operations of the reference are explicit fmaf() calls.) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static const char *prog = "native";

/* src/abi.ts */
#define HASH_RMIN 0.0625
#define HASH_RMAX 4.0
#define COLOR_SCALE 0.003921569f
#define MAX_ICOSPHERE_LEVEL 9

static void die_oom(void) {
    fprintf(stderr, "%s: out of memory\n", prog);
    exit(2);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die_oom();
    return p;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) die_oom();
    return p;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* -------------------------------------------------------------- icosphere -- */

typedef struct {
    float *xyz;       /* float32 x y z per vertex */
    float *xyz_pad;   /* the same, padded to a multiple of 16 vertices, SoA (brute force) */
    uint32_t n, n_pad;
} icosphere;

/* Math.hypot as V8 computes it (src/builtins/math.tq): scale by the largest
 * magnitude, Kahan-sum the squares, sqrt, scale back. Not C's hypot(). */
static double js_hypot3(double a, double b, double c) {
    double v[3] = {fabs(a), fabs(b), fabs(c)};
    double max = 0;
    int nan = 0;
    for (int i = 0; i < 3; i++) {
        if (isnan(v[i])) nan = 1;
        else if (v[i] > max) max = v[i];
    }
    if (max == INFINITY) return INFINITY;
    if (nan) return NAN;
    if (max == 0) return 0;
    double sum = 0, comp = 0;
    for (int i = 0; i < 3; i++) {
        double n = v[i] / max;
        double summand = n * n - comp;
        double prelim = sum + summand;
        comp = (prelim - sum) - summand;
        sum = prelim;
    }
    return sqrt(sum) * max;
}

static void normalize3(double *p) {
    double n = js_hypot3(p[0], p[1], p[2]);
    p[0] = p[0] / n;
    p[1] = p[1] / n;
    p[2] = p[2] / n;
}

/* generateIcosphere of src/icosphere.ts: same vertex order, double, rounded to float. */
static float *generate_icosphere(int level, uint32_t *count) {
    const double t = (1 + sqrt(5.0)) / 2;
    const double init[12][3] = {
        {-1, t, 0}, {1, t, 0}, {-1, -t, 0}, {1, -t, 0},
        {0, -1, t}, {0, 1, t}, {0, -1, -t}, {0, 1, -t},
        {t, 0, -1}, {t, 0, 1}, {-t, 0, -1}, {-t, 0, 1},
    };
    static const uint32_t faces0[20][3] = {
        {0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11},
        {1, 5, 9}, {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
        {3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8}, {3, 8, 9},
        {4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1},
    };
    size_t npts_final = 10 * ((size_t)1 << (2 * level)) + 2;
    double *pts = xmalloc(sizeof(double) * 3 * npts_final);
    for (int i = 0; i < 12; i++) {
        memcpy(pts + 3 * i, init[i], sizeof init[i]);
        normalize3(pts + 3 * i);
    }
    size_t npts = 12, nfaces = 20;
    uint32_t *faces = xmalloc(sizeof(uint32_t) * 3 * nfaces);
    memcpy(faces, faces0, sizeof faces0);
    for (int l = 0; l < level; l++) {
        /* edge -> midpoint, open addressing; key a*2^21+b (a < b) as in the TS */
        size_t cap = 1;
        while (cap < nfaces * 4) cap <<= 1; /* edges = 1.5 * faces */
        uint64_t *keys = xmalloc(sizeof(uint64_t) * cap);
        uint32_t *vals = xmalloc(sizeof(uint32_t) * cap);
        memset(keys, 0xff, sizeof(uint64_t) * cap);
        uint32_t *next = xmalloc(sizeof(uint32_t) * 12 * nfaces);
        for (size_t f = 0; f < nfaces; f++) {
            uint32_t v[3] = {faces[3 * f], faces[3 * f + 1], faces[3 * f + 2]}, m[3];
            for (int e = 0; e < 3; e++) {
                uint32_t a = v[e], b = v[(e + 1) % 3];
                uint64_t key = a < b ? (uint64_t)a * 0x200000u + b : (uint64_t)b * 0x200000u + a;
                size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
                while (keys[h] != UINT64_MAX && keys[h] != key) h = (h + 1) & (cap - 1);
                if (keys[h] == UINT64_MAX) {
                    double *pa = pts + 3 * (size_t)a, *pb = pts + 3 * (size_t)b, *pm = pts + 3 * npts;
                    pm[0] = (pa[0] + pb[0]) / 2;
                    pm[1] = (pa[1] + pb[1]) / 2;
                    pm[2] = (pa[2] + pb[2]) / 2;
                    normalize3(pm);
                    keys[h] = key;
                    vals[h] = (uint32_t)npts++;
                }
                m[e] = vals[h]; /* ab, bc, ca */
            }
            uint32_t *o = next + 12 * f;
            uint32_t a = v[0], b = v[1], c = v[2], ab = m[0], bc = m[1], ca = m[2];
            o[0] = a;  o[1] = ab;  o[2] = ca;
            o[3] = b;  o[4] = bc;  o[5] = ab;
            o[6] = c;  o[7] = ca;  o[8] = bc;
            o[9] = ab; o[10] = bc; o[11] = ca;
        }
        free(keys);
        free(vals);
        free(faces);
        faces = next;
        nfaces *= 4;
    }
    free(faces);
    float *xyz = xmalloc(sizeof(float) * 3 * npts);
    for (size_t i = 0; i < 3 * npts; i++) xyz[i] = (float)pts[i];
    free(pts);
    *count = (uint32_t)npts;
    return xyz;
}

static int read_whole(const char *path, unsigned char **buf, size_t *cap, size_t *len);

/* spec: a table path, or NULL with level >= 0 */
static void icosphere_load(icosphere *ico, const char *path, int level) {
    memset(ico, 0, sizeof *ico);
    if (!path) {
        ico->xyz = generate_icosphere(level, &ico->n);
    } else {
        unsigned char *raw = NULL;
        size_t cap = 0, len = 0;
        if (read_whole(path, &raw, &cap, &len) != 0) {
            fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno));
            exit(2);
        }
        if (len == 0 || len % 12 != 0) {
            fprintf(stderr, "%s: %s: icosphere table size %zu is not a positive multiple of 12 bytes\n", prog, path, len);
            exit(2);
        }
        ico->n = (uint32_t)(len / 12);
        ico->xyz = xmalloc(len);
        memcpy(ico->xyz, raw, len);
        free(raw);
        for (size_t i = 0; i < 3 * (size_t)ico->n; i++)
            if (!isfinite(ico->xyz[i])) {
                fprintf(stderr, "%s: %s: vertex %zu is not finite\n", prog, path, i / 3);
                exit(2);
            }
    }
    /* SoA copy for the vectorised brute force, padded with far-away vertices
     * (their distance, about 1e30 or +inf, never beats the best of 9999) */
    ico->n_pad = (ico->n + 15) & ~15u;
    ico->xyz_pad = aligned_alloc(64, sizeof(float) * 3 * ico->n_pad);
    if (!ico->xyz_pad) die_oom();
    for (uint32_t i = 0; i < ico->n_pad; i++)
        for (int k = 0; k < 3; k++)
            ico->xyz_pad[(size_t)k * ico->n_pad + i] = i < ico->n ? ico->xyz[3 * i + k] : 1e30f;
}

/* --------------------------------------------------------------- cube map -- */

/* The candidates as the queries read them: each cell's list in blocks of 4,
 * x[4] y[4] z[4] float32 then the 4 table indices (64 bytes, one cache
 * line); unused lanes hold a far point (1e18) and index -1. A cell of up to
 * 4 candidates (nearly all of them) is one block. */
#define LANES 4
#define PAD_COORD 1e18f
typedef struct {
    float x[LANES], y[LANES], z[LANES];
    int32_t i[LANES];
} __attribute__((aligned(64))) cand_block;

typedef struct {
    int grid;
    double half_grid;
    uint32_t *cell_start;  /* 6*grid*grid + 1: the lists, as src/spatial-hash.ts builds them */
    uint32_t *cand;        /* vertex indices, ascending within each cell */
    uint32_t ncand;
    uint32_t *cell_block;  /* 6*grid*grid + 1: cell k's blocks are cell_block[k] .. cell_block[k+1]-1 */
    cand_block *blocks;
    uint32_t nblocks;
} cube_map;

/* gridFor of src/spatial-hash.ts */
static int grid_for(uint32_t n) {
    int g = 1;
    while (g < 1.25 * sqrt((double)n) && g < 512) g *= 2;
    return g;
}

#define DISTANCE_REL_ERROR 1e-6
#define CELL_PAD 1e-9

static void face_direction(int face, double u, double v, double *out) {
    double s = face % 2 == 0 ? 1 : -1;
    int axis = face >> 1;
    double x, y, z;
    if (axis == 0) { x = s; y = u; z = v; }
    else if (axis == 1) { x = u; y = s; z = v; }
    else { x = u; y = v; z = s; }
    double n = js_hypot3(x, y, z);
    out[0] = x / n; out[1] = y / n; out[2] = z / n;
}

typedef struct { double cx, cy, cz, one_minus_cos, sin; } cone;

static double jsmax(double a, double b) { return isnan(a) || isnan(b) ? NAN : (a > b ? a : b); }

static cone cell_cone(int face, int grid, int iu, int iv) {
    double u0 = -1 + (2.0 * iu) / grid - CELL_PAD, u1 = -1 + (2.0 * (iu + 1)) / grid + CELL_PAD;
    double v0 = -1 + (2.0 * iv) / grid - CELL_PAD, v1 = -1 + (2.0 * (iv + 1)) / grid + CELL_PAD;
    double c[3], k[3];
    face_direction(face, (u0 + u1) / 2, (v0 + v1) / 2, c);
    double omc = 0, sn = 0;
    const double corners[4][2] = {{u0, v0}, {u1, v0}, {u0, v1}, {u1, v1}};
    for (int j = 0; j < 4; j++) {
        face_direction(face, corners[j][0], corners[j][1], k);
        double dx = c[0] - k[0], dy = c[1] - k[1], dz = c[2] - k[2];
        omc = jsmax(omc, (dx * dx + dy * dy + dz * dz) / 2);
        double cx = c[1] * k[2] - c[2] * k[1], cy = c[2] * k[0] - c[0] * k[2], cz = c[0] * k[1] - c[1] * k[0];
        sn = jsmax(sn, js_hypot3(cx, cy, cz));
    }
    cone r = {c[0], c[1], c[2], omc * (1 + 1e-9) + 1e-15, sn * (1 + 1e-9) + 1e-15};
    return r;
}

typedef struct {
    const double *qx, *qy, *qz, *q2, *rlo, *rhi;
    double *hi;
    double margin;
} hash_build;

/* filter of buildSpatialHash: append the parent's vertices that can win in the cone to *out */
static void hash_filter(const hash_build *b, const uint32_t *parent, uint32_t np, cone k,
                        uint32_t **out, size_t *len, size_t *cap) {
    double best_lo = -INFINITY;
    for (uint32_t j = 0; j < np; j++) {
        uint32_t i = parent[j];
        double dot = b->qx[i] * k.cx + b->qy[i] * k.cy + b->qz[i] * k.cz;
        double perp = sqrt(jsmax(0, b->q2[i] - dot * dot));
        double spread = k.one_minus_cos * fabs(dot) + k.sin * perp;
        b->hi[j] = dot + spread + b->rhi[i];
        double lo = dot - spread + b->rlo[i];
        if (lo > best_lo) best_lo = lo;
    }
    double threshold = best_lo - b->margin;
    if (*cap - *len < np) {
        while (*cap - *len < np) *cap = *cap ? *cap * 2 : 1024;
        *out = xrealloc(*out, sizeof(uint32_t) * *cap);
    }
    for (uint32_t j = 0; j < np; j++)
        if (b->hi[j] >= threshold) (*out)[(*len)++] = parent[j];
}

static void cube_map_build(cube_map *cm, const icosphere *ico) {
    uint32_t n = ico->n;
    int grid = grid_for(n);
    double *mem = xmalloc(sizeof(double) * 7 * (size_t)n);
    double *qx = mem, *qy = mem + n, *qz = mem + 2 * (size_t)n, *q2 = mem + 3 * (size_t)n;
    double *rlo = mem + 4 * (size_t)n, *rhi = mem + 5 * (size_t)n, *hi = mem + 6 * (size_t)n;
    double qmax = 0;
    for (uint32_t i = 0; i < n; i++) {
        qx[i] = ico->xyz[3 * i]; qy[i] = ico->xyz[3 * i + 1]; qz[i] = ico->xyz[3 * i + 2];
        q2[i] = qx[i] * qx[i] + qy[i] * qy[i] + qz[i] * qz[i];
        double e = q2[i] - 1;
        double a = -e / (2 * HASH_RMIN), bb = -e / (2 * HASH_RMAX);
        rlo[i] = a < bb ? a : bb; /* Math.min/max; finite */
        rhi[i] = a > bb ? a : bb;
        qmax = jsmax(qmax, sqrt(q2[i]));
    }
    double m1 = (HASH_RMIN + qmax) * (HASH_RMIN + qmax) / (2 * HASH_RMIN);
    double m2 = (HASH_RMAX + qmax) * (HASH_RMAX + qmax) / (2 * HASH_RMAX);
    hash_build b = {qx, qy, qz, q2, rlo, rhi, hi, 4 * 3 * DISTANCE_REL_ERROR * jsmax(m1, m2)};

    uint32_t *all = xmalloc(sizeof(uint32_t) * n);
    for (uint32_t i = 0; i < n; i++) all[i] = i;
    int level = 1;
    size_t len = 0, cap = 0;
    uint32_t *cand = NULL;
    uint32_t *start = xmalloc(sizeof(uint32_t) * 7);
    for (int face = 0; face < 6; face++) {
        start[face] = (uint32_t)len;
        hash_filter(&b, all, n, cell_cone(face, 1, 0, 0), &cand, &len, &cap);
    }
    start[6] = (uint32_t)len;
    free(all);
    while (level < grid) {
        int next = level * 2;
        size_t ncells = 6 * (size_t)next * next, nlen = 0, ncap = 0;
        uint32_t *ncand = NULL, *nstart = xmalloc(sizeof(uint32_t) * (ncells + 1));
        for (int face = 0; face < 6; face++)
            for (int iv = 0; iv < next; iv++)
                for (int iu = 0; iu < next; iu++) {
                    size_t p = ((size_t)face * level + (iv >> 1)) * level + (iu >> 1);
                    nstart[((size_t)face * next + iv) * next + iu] = (uint32_t)nlen;
                    hash_filter(&b, cand + start[p], start[p + 1] - start[p], cell_cone(face, next, iu, iv),
                                &ncand, &nlen, &ncap);
                }
        nstart[ncells] = (uint32_t)nlen;
        free(cand);
        free(start);
        cand = ncand;
        start = nstart;
        len = nlen;
        level = next;
    }
    free(mem);
    cm->grid = level;
    cm->half_grid = level * 0.5;
    cm->cell_start = start;
    cm->cand = cand;
    cm->ncand = (uint32_t)len;
    size_t ncells = 6 * (size_t)level * level, nb = 0;
    cm->cell_block = xmalloc(sizeof(uint32_t) * (ncells + 1));
    for (size_t k = 0; k < ncells; k++) {
        cm->cell_block[k] = (uint32_t)nb;
        nb += (start[k + 1] - start[k] + LANES - 1) / LANES;
    }
    cm->cell_block[ncells] = (uint32_t)nb;
    cm->nblocks = (uint32_t)nb;
    cm->blocks = aligned_alloc(64, sizeof(cand_block) * (nb ? nb : 1));
    if (!cm->blocks) die_oom();
    for (size_t k = 0; k < ncells; k++) {
        uint32_t m = start[k + 1] - start[k];
        cand_block *b = cm->blocks + cm->cell_block[k];
        for (uint32_t j = 0; j < (cm->cell_block[k + 1] - cm->cell_block[k]) * LANES; j++) {
            cand_block *bj = b + j / LANES;
            uint32_t lane = j % LANES;
            if (j < m) {
                uint32_t i = cand[start[k] + j];
                bj->x[lane] = ico->xyz[3 * (size_t)i];
                bj->y[lane] = ico->xyz[3 * (size_t)i + 1];
                bj->z[lane] = ico->xyz[3 * (size_t)i + 2];
                bj->i[lane] = (int32_t)i;
            } else {
                bj->x[lane] = bj->y[lane] = bj->z[lane] = PAD_COORD;
                bj->i[lane] = -1;
            }
        }
    }
}

/* ------------------------------------------------------------ nearest -- */

#define TIE_SLACK 4e-6
#define TIE_FLOOR 1e-40

/* The reference's distance, with its fused multiply-adds. */
static inline float ref_distance(float qx, float qy, float qz, float px, float py, float pz) {
    float dx = qx - px, dy = qy - py, dz = qz - pz;
    return sqrtf(fmaf(dz, dz, fmaf(dx, dx, dy * dy)));
}

/* The reference loop, literally: running best starts at 9999, first strictly smaller wins. */
static uint32_t nearest_brute_scalar(const icosphere *ico, float px, float py, float pz) {
    float best = 9999.0f;
    uint32_t bi = 0;
    const float *q = ico->xyz;
    for (uint32_t i = 0; i < ico->n; i++, q += 3) {
        float d = ref_distance(q[0], q[1], q[2], px, py, pz);
        if (d < best) { best = d; bi = i; }
    }
    return bi;
}

/* The same answer, 8 distances at a time: the first strictly smallest d in
 * table order is the lowest index holding the minimum (when it beats 9999).
 * The per-lane arithmetic (sub, fmadd, sqrt) rounds exactly like the scalar
 * loop. A NaN point makes every d NaN, and then no d beats 9999: vertex 0. */
static uint32_t nearest_brute(const icosphere *ico, float px, float py, float pz) {
#ifdef HAVE_AVX2_FMA
    const uint32_t np = ico->n_pad;
    const float *X = ico->xyz_pad, *Y = X + np, *Z = Y + np;
    const __m256 vx = _mm256_set1_ps(px), vy = _mm256_set1_ps(py), vz = _mm256_set1_ps(pz);
    __m256 m0 = _mm256_set1_ps(9999.0f), m1 = m0;
    /* pass 1: the minimum (min_ps keeps the second operand on NaN: the running min) */
    for (uint32_t i = 0; i < np; i += 16) {
        __m256 dx = _mm256_sub_ps(_mm256_load_ps(X + i), vx);
        __m256 dy = _mm256_sub_ps(_mm256_load_ps(Y + i), vy);
        __m256 dz = _mm256_sub_ps(_mm256_load_ps(Z + i), vz);
        __m256 d = _mm256_sqrt_ps(_mm256_fmadd_ps(dz, dz, _mm256_fmadd_ps(dx, dx, _mm256_mul_ps(dy, dy))));
        m0 = _mm256_min_ps(d, m0);
        __m256 ex = _mm256_sub_ps(_mm256_load_ps(X + i + 8), vx);
        __m256 ey = _mm256_sub_ps(_mm256_load_ps(Y + i + 8), vy);
        __m256 ez = _mm256_sub_ps(_mm256_load_ps(Z + i + 8), vz);
        __m256 e = _mm256_sqrt_ps(_mm256_fmadd_ps(ez, ez, _mm256_fmadd_ps(ex, ex, _mm256_mul_ps(ey, ey))));
        m1 = _mm256_min_ps(e, m1);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_min_ps(m0, m1));
    float best = lanes[0];
    for (int k = 1; k < 8; k++) if (lanes[k] < best) best = lanes[k];
    if (!(best < 9999.0f)) return 0;
    /* pass 2: the first index whose distance equals the minimum */
    const __m256 vb = _mm256_set1_ps(best);
    for (uint32_t i = 0; i < np; i += 8) {
        __m256 dx = _mm256_sub_ps(_mm256_load_ps(X + i), vx);
        __m256 dy = _mm256_sub_ps(_mm256_load_ps(Y + i), vy);
        __m256 dz = _mm256_sub_ps(_mm256_load_ps(Z + i), vz);
        __m256 d = _mm256_sqrt_ps(_mm256_fmadd_ps(dz, dz, _mm256_fmadd_ps(dx, dx, _mm256_mul_ps(dy, dy))));
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(d, vb, _CMP_EQ_OQ));
        if (mask) return i + (uint32_t)__builtin_ctz((unsigned)mask);
    }
    return 0; /* unreachable */
#else
    return nearest_brute_scalar(ico, px, py, pz);
#endif
}

/* cellOf of assembly/nearest.ts */
static inline uint32_t cell_of(const cube_map *cm, double x, double y, double z) {
    double ax = fabs(x), ay = fabs(y), az = fabs(z);
    /* Face order and (u, v) axes as in src/spatial-hash.ts; written as selects rather than
     * branches (directions come in no order), with the same divisions:
     *   x-major: face 0/1, u = y/ax, v = z/ax
     *   y-major: face 2/3, u = x/ay, v = z/ay
     *   z-major: face 4/5, u = x/az, v = y/az */
    const int xm = (ax >= ay) & (ax >= az);
    const int ym = !xm & (ay >= az);
    const double m = xm ? ax : ym ? ay : az;
    const double s = xm ? x : ym ? y : z;
    const double un = xm ? y : x;
    const double vn = xm | ym ? z : y;
    const int face = (xm ? 0 : ym ? 2 : 4) + (s > 0 ? 0 : 1);
    const double u = un / m, v = vn / m;
    int g = cm->grid;
    int iu = (int)((u + 1.0) * cm->half_grid);
    int iv = (int)((v + 1.0) * cm->half_grid);
    if (iu >= g) iu = g - 1;
    if (iv >= g) iv = g - 1;
    if (iu < 0) iu = 0;
    if (iv < 0) iv = 0;
    return (uint32_t)((face * g + iv) * g + iu);
}

/* Candidates within rounding distance of the best: rank them with the reference's arithmetic. */
static __attribute__((noinline)) uint32_t nearest_among_close(const cube_map *cm, float px, float py, float pz,
                                                              uint32_t first, uint32_t last, double limit) {
    float best = INFINITY;
    uint32_t bi = 0x7fffffff;
    for (uint32_t b = first; b < last; b++) {
        const cand_block *q = cm->blocks + b;
        for (int lane = 0; lane < LANES; lane++) {
            if (q->i[lane] < 0) continue;
            const uint32_t i = (uint32_t)q->i[lane];
            const float qx = q->x[lane], qy = q->y[lane], qz = q->z[lane];
            double dx = (double)(qx - px), dy = (double)(qy - py), dz = (double)(qz - pz);
            if (dx * dx + dy * dy + dz * dz > limit) continue;
            float d = ref_distance(qx, qy, qz, px, py, pz);
            if (d < best || (d == best && i < bi)) { best = d; bi = i; }
        }
    }
    return bi;
}

static const double RMIN2 = HASH_RMIN * HASH_RMIN, RMAX2 = HASH_RMAX * HASH_RMAX;

/* The cube-map part of nearest(): rank the candidates of blocks [first, last)
 * by the float64 squared distance of the reference's float32 differences; if
 * no other comes within TIE_SLACK of the best (exactly one candidate at or
 * under the limit; the best always is), the best is the answer. */
#ifdef HAVE_AVX2_FMA
/* 4 lanes at once: the same float32 subtractions, widened, and the same
 * float64 products and sums in the same order as the scalar code (no
 * contraction), so the same values. */
static inline __m256d block_d2(const cand_block *b, __m128 vx, __m128 vy, __m128 vz) {
    __m256d dx = _mm256_cvtps_pd(_mm_sub_ps(_mm_load_ps(b->x), vx));
    __m256d dy = _mm256_cvtps_pd(_mm_sub_ps(_mm_load_ps(b->y), vy));
    __m256d dz = _mm256_cvtps_pd(_mm_sub_ps(_mm_load_ps(b->z), vz));
    return _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy)), _mm256_mul_pd(dz, dz));
}

static inline double hmin4(__m256d d) {
    __m128d m = _mm_min_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_min_sd(m, _mm_unpackhi_pd(m, m)));
}

static inline uint32_t nearest_in_cell(const cube_map *cm, float px, float py, float pz, uint32_t first, uint32_t last) {
    const __m128 vx = _mm_set1_ps(px), vy = _mm_set1_ps(py), vz = _mm_set1_ps(pz);
    const cand_block *b = cm->blocks + first;
    if (__builtin_expect(last - first == 1, 1)) {
        const __m256d d = block_d2(b, vx, vy, vz);
        const double limit = hmin4(d) * (1.0 + TIE_SLACK) + TIE_FLOOR;
        const int mask = _mm256_movemask_pd(_mm256_cmp_pd(d, _mm256_set1_pd(limit), _CMP_LE_OQ));
        if (__builtin_expect((mask & (mask - 1)) == 0, 1)) return (uint32_t)b->i[__builtin_ctz((unsigned)mask)];
        return nearest_among_close(cm, px, py, pz, first, last, limit);
    }
    __m256d mins = _mm256_set1_pd(INFINITY);
    for (uint32_t k = first; k < last; k++) mins = _mm256_min_pd(block_d2(cm->blocks + k, vx, vy, vz), mins);
    const double limit = hmin4(mins) * (1.0 + TIE_SLACK) + TIE_FLOOR;
    const __m256d vl = _mm256_set1_pd(limit);
    int found = -1;
    for (uint32_t k = first; k < last; k++) {
        const int mask = _mm256_movemask_pd(_mm256_cmp_pd(block_d2(cm->blocks + k, vx, vy, vz), vl, _CMP_LE_OQ));
        if (!mask) continue;
        if ((mask & (mask - 1)) != 0 || found >= 0) return nearest_among_close(cm, px, py, pz, first, last, limit);
        found = cm->blocks[k].i[__builtin_ctz((unsigned)mask)];
    }
    return (uint32_t)found;
}
#else
static inline uint32_t nearest_in_cell(const cube_map *cm, float px, float py, float pz, uint32_t first, uint32_t last) {
    double best = INFINITY, second = INFINITY;
    int32_t bi = 0;
    for (uint32_t k = first; k < last; k++) {
        const cand_block *q = cm->blocks + k;
        for (int lane = 0; lane < LANES; lane++) {
            /* the same float32 differences the reference takes, squared and summed in float64
             * (padding lanes are 1e36 away: never best nor second) */
            double dx = (double)(q->x[lane] - px), dy = (double)(q->y[lane] - py), dz = (double)(q->z[lane] - pz);
            double d2 = dx * dx + dy * dy + dz * dz;
            /* branch-free form of: if (d2 < best) { second = best; best = d2; bi = i; }
             *                      else if (d2 < second) second = d2;
             * (the same values: d2 is never NaN here) */
            bi = d2 < best ? q->i[lane] : bi;
            const double hi = d2 > best ? d2 : best;
            second = hi < second ? hi : second;
            best = d2 < best ? d2 : best;
        }
    }
    double limit = best * (1.0 + TIE_SLACK) + TIE_FLOOR;
    if (__builtin_expect(second > limit, 1)) return (uint32_t)bi;
    return nearest_among_close(cm, px, py, pz, first, last, limit);
}
#endif

/* Whether p takes the cube map: its radius is in the band (NaN is not, and
 * takes the brute force, which reproduces the reference). */
static inline int in_band(double x, double y, double z) {
    double r2 = x * x + y * y + z * z;
    return r2 >= RMIN2 && r2 <= RMAX2;
}

/* nearest of assembly/nearest.ts: one query at a time */
static inline uint32_t nearest(const icosphere *ico, const cube_map *cm, float px, float py, float pz) {
    double x = px, y = py, z = pz;
    if (__builtin_expect(!in_band(x, y, z), 0)) return nearest_brute(ico, px, py, pz);
    uint32_t cell = cell_of(cm, x, y, z);
    return nearest_in_cell(cm, px, py, pz, cm->cell_block[cell], cm->cell_block[cell + 1]);
}

/* The same answers for a block of points, in stages so that the memory
 * accesses of the whole block overlap: the cells (prefetching their
 * starts), then the candidate ranges (prefetching the candidates), then
 * the rankings. Head meshes list their vertices in no spatial order, so
 * one query at a time waits for a cache miss or two per vertex. */
#define BLOCK 32
#define NO_CELL UINT32_MAX
static inline void nearest_block(const icosphere *ico, const cube_map *cm, size_t n,
                                 const float *px, const float *py, const float *pz, uint32_t *out) {
    uint32_t cell[BLOCK], first[BLOCK], last[BLOCK];
    for (size_t j = 0; j < n; j++) {
        double x = px[j], y = py[j], z = pz[j];
        if (__builtin_expect(in_band(x, y, z), 1)) {
            cell[j] = cell_of(cm, x, y, z);
            __builtin_prefetch(cm->cell_block + cell[j]);
        } else {
            cell[j] = NO_CELL;
        }
    }
    for (size_t j = 0; j < n; j++) {
        if (cell[j] == NO_CELL) continue;
        first[j] = cm->cell_block[cell[j]];
        last[j] = cm->cell_block[cell[j] + 1];
        __builtin_prefetch(cm->blocks + first[j]);
    }
    for (size_t j = 0; j < n; j++)
        out[j] = cell[j] == NO_CELL ? nearest_brute(ico, px[j], py[j], pz[j])
                                    : nearest_in_cell(cm, px[j], py[j], pz[j], first[j], last[j]);
}

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

/* One binary value at p as a double (as the reference's reader returns it). */
static inline double load_binary(const unsigned char *p, enum ply_type t, int big_endian) {
    unsigned char b[8];
    size_t n = type_size(t);
    if (big_endian) for (size_t i = 0; i < n; i++) b[i] = p[n - 1 - i];
    else memcpy(b, p, n);
    switch (t) {
    case T_I8: { int8_t v; memcpy(&v, b, 1); return v; }
    case T_U8: return b[0];
    case T_I16: { int16_t v; memcpy(&v, b, 2); return v; }
    case T_U16: { uint16_t v; memcpy(&v, b, 2); return v; }
    case T_I32: { int32_t v; memcpy(&v, b, 4); return v; }
    case T_U32: { uint32_t v; memcpy(&v, b, 4); return v; }
    case T_F32: { float v; memcpy(&v, b, 4); return v; }
    case T_F64: { double v; memcpy(&v, b, 8); return v; }
    default: return 0;
    }
}

/* A cursor over the file's body, for ASCII and variable-size records. */
typedef struct {
    const unsigned char *p, *end;
    enum ply_format fmt;
    int err;
} cursor;

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
    if (n == 0 || (size_t)(c->end - c->p) < n) { c->err = 1; return 0; }
    double v = load_binary(c->p, t, c->fmt == PLY_BBE);
    c->p += n;
    return v;
}

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

/* Read a whole file with one read() (a few if the kernel returns less) into
 * *buf, reused and grown across calls, NUL-terminated. */
static int read_whole(const char *path, unsigned char **buf, size_t *cap, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); errno = e; return -1; }
    if (S_ISDIR(st.st_mode)) { close(fd); errno = EISDIR; return -1; }
    /* room for the file, one spare byte (so that a file of the size stat says ends with a
     * read of 0, not a full buffer) and the NUL */
    size_t want = (st.st_size > 0 ? (size_t)st.st_size : 65536) + 2, n = 0;
    if (*cap < want) {
        free(*buf);
        *buf = malloc(want);
        if (!*buf) { *cap = 0; close(fd); errno = ENOMEM; return -1; }
        *cap = want;
    }
    for (;;) {
        ssize_t got = read(fd, *buf + n, *cap - 1 - n);
        if (got < 0) {
            if (errno == EINTR) continue;
            int e = errno; close(fd); errno = e; return -1;
        }
        if (got == 0) break;
        n += (size_t)got;
        if (n == *cap - 1) {
            /* the file is larger than stat said: grow, keeping the data */
            unsigned char *nb = realloc(*buf, *cap * 2);
            if (!nb) { close(fd); errno = ENOMEM; return -1; }
            *buf = nb;
            *cap *= 2;
        }
    }
    close(fd);
    (*buf)[n] = 0;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------- compile -- */

typedef struct {
    const icosphere *ico;
    const cube_map *cm;
    float inv; /* float32(1 / (3 * N)) */
} job;

/* Per-thread scratch, reused across files. */
typedef struct {
    unsigned char *file;
    size_t file_cap;
    float *cols;
    size_t cols_cap;
} scratch;

/* One file's rows. */
typedef struct {
    float *x, *y;
    size_t cap; /* rows */
    size_t rows;
    int ok;
} rows_buf;

static void rows_reserve(rows_buf *o, size_t n) {
    if (o->cap >= n) return;
    free(o->x);
    free(o->y);
    o->cap = n > 1024 ? n : 1024;
    o->x = xmalloc(sizeof(float) * 2 * o->cap);
    o->y = xmalloc(sizeof(float) * 6 * o->cap);
}

/* A block of decoded vertices: x y z nx ny nz, and colours already scaled. */
typedef struct {
    float x[BLOCK], y[BLOCK], z[BLOCK], nx[BLOCK], ny[BLOCK], nz[BLOCK], r[BLOCK], g[BLOCK], b[BLOCK];
} vblock;

/* Trace n <= BLOCK vertices, find their icosphere vertices, write their rows. */
static void emit_block(const job *jb, float id, size_t n, const vblock *v, float *xo, float *yo) {
    float px[BLOCK], py[BLOCK], pz[BLOCK];
    uint32_t idx[BLOCK];
    for (size_t j = 0; j < n; j++) {
        const float x = v->x[j], y = v->y[j], z = v->z[j];
        const float r2 = fmaf(z, z, fmaf(x, x, y * y));
        const float pd = 1.0f - sqrtf(r2);
        px[j] = fmaf(pd, v->nx[j], x);
        py[j] = fmaf(pd, v->ny[j], y);
        pz[j] = fmaf(pd, v->nz[j], z);
    }
    nearest_block(jb->ico, jb->cm, n, px, py, pz, idx);
    for (size_t j = 0; j < n; j++, xo += 2, yo += 6) {
        xo[0] = id;
        xo[1] = (float)(3u * idx[j]) * jb->inv;
        yo[0] = v->x[j]; yo[1] = v->y[j]; yo[2] = v->z[j];
        yo[3] = v->r[j]; yo[4] = v->g[j]; yo[5] = v->b[j];
    }
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

/* Compile one PLY file into o. Returns 0, or prints an error and returns -1. */
static int compile_file(const job *jb, const char *path, float id, scratch *s, rows_buf *o) {
    o->rows = 0;
    size_t len;
    if (read_whole(path, &s->file, &s->file_cap, &len) != 0) {
        fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    unsigned char *buf = s->file;
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
            el->props = xrealloc(el->props, sizeof *el->props * (size_t)(el->nprops + 1));
            el->props[el->nprops++] = pr;
        } else {
            why = "unknown header keyword";
            goto bad;
        }
    }
    if (fmt < 0) { why = "header has no format line"; goto bad; }

    cursor c = {p, end, (enum ply_format)fmt, 0};
    int vi = -1;
    for (int e = 0; e < nelems; e++) if (strcmp(elems[e].name, "vertex") == 0) { vi = e; break; }
    if (vi < 0) { why = "no vertex element"; goto bad; }
    for (int e = 0; e < vi && !c.err; e++)
        for (size_t k = 0; k < elems[e].count && !c.err; k++)
            for (int j = 0; j < elems[e].nprops; j++) read_prop(&c, &elems[e].props[j]);
    if (c.err) { why = "file truncated before the vertex element"; goto bad; }

    /* the vertex properties we want (the last of a repeated name wins, as in reference.c) */
    const ply_elem *ve = &elems[vi];
    static const char *want[9] = {"x", "y", "z", "nx", "ny", "nz", "red", "green", "blue"};
    int slot_prop[9];
    size_t slot_off[9];
    size_t stride = 0;
    int fixed = fmt != PLY_ASCII;
    for (int k = 0; k < 9; k++) slot_prop[k] = -1;
    for (int j = 0; j < ve->nprops; j++) {
        const ply_prop *pr = &ve->props[j];
        if (pr->count_type != T_NONE) { fixed = 0; continue; }
        for (int k = 0; k < 9; k++)
            if (strcmp(pr->name, want[k]) == 0) { slot_prop[k] = j; slot_off[k] = stride; }
        stride += type_size(pr->type);
    }
    if (slot_prop[0] < 0 || slot_prop[1] < 0 || slot_prop[2] < 0) { why = "vertex element lacks x, y or z"; goto bad; }

    const size_t n = ve->count;
    if (fixed && stride == 0) fixed = 0;
    if (fixed && (size_t)(end - c.p) / stride < n) { why = "file truncated or malformed in the vertex element"; goto bad; }
    rows_reserve(o, n);
    float *xo = o->x, *yo = o->y;

    if (fixed) {
        const unsigned char *rec = c.p;
        int common = fmt == PLY_BLE;
        for (int k = 0; k < 9 && common; k++)
            if (slot_prop[k] < 0 || ve->props[slot_prop[k]].type != (k < 6 ? T_F32 : T_U8)) common = 0;
        if (common) {
            /* Blender's layout (in any order): float32 position and normal, uchar colour, LE */
            const size_t ox = slot_off[0], oy = slot_off[1], oz = slot_off[2];
            const size_t onx = slot_off[3], ony = slot_off[4], onz = slot_off[5];
            const size_t or_ = slot_off[6], og = slot_off[7], ob = slot_off[8];
            vblock v;
            for (size_t i = 0; i < n; i += BLOCK, xo += 2 * BLOCK, yo += 6 * BLOCK) {
                const size_t m = n - i < BLOCK ? n - i : BLOCK;
                for (size_t j = 0; j < m; j++, rec += stride) {
                    memcpy(&v.x[j], rec + ox, 4); memcpy(&v.y[j], rec + oy, 4); memcpy(&v.z[j], rec + oz, 4);
                    memcpy(&v.nx[j], rec + onx, 4); memcpy(&v.ny[j], rec + ony, 4); memcpy(&v.nz[j], rec + onz, 4);
                    v.r[j] = (float)rec[or_] * COLOR_SCALE;
                    v.g[j] = (float)rec[og] * COLOR_SCALE;
                    v.b[j] = (float)rec[ob] * COLOR_SCALE;
                }
                emit_block(jb, id, m, &v, xo, yo);
            }
        } else {
            /* any scalar types, either byte order; absent properties are 0 */
            enum ply_type ty[9];
            for (int k = 0; k < 9; k++) ty[k] = slot_prop[k] < 0 ? T_NONE : ve->props[slot_prop[k]].type;
            const int be = fmt == PLY_BBE;
            vblock v;
            float *dst[9] = {v.x, v.y, v.z, v.nx, v.ny, v.nz, v.r, v.g, v.b};
            for (size_t i = 0; i < n; i += BLOCK, xo += 2 * BLOCK, yo += 6 * BLOCK) {
                const size_t m = n - i < BLOCK ? n - i : BLOCK;
                for (size_t j = 0; j < m; j++, rec += stride)
                    for (int k = 0; k < 9; k++) {
                        const float f = ty[k] == T_NONE ? 0.0f : (float)load_binary(rec + slot_off[k], ty[k], be);
                        dst[k][j] = k < 6 ? f : f * COLOR_SCALE;
                    }
                emit_block(jb, id, m, &v, xo, yo);
            }
        }
    } else {
        /* ASCII, or records holding lists: decode all vertices first, like reference.c */
        int slot[64 * 4];
        int *sl = ve->nprops <= (int)(sizeof slot / sizeof slot[0]) ? slot : xmalloc(sizeof(int) * (size_t)ve->nprops);
        for (int j = 0; j < ve->nprops; j++) sl[j] = -1;
        for (int k = 0; k < 9; k++) if (slot_prop[k] >= 0) sl[slot_prop[k]] = k;
        if (s->cols_cap < 9 * n) {
            free(s->cols);
            s->cols_cap = 9 * n;
            s->cols = xmalloc(sizeof(float) * s->cols_cap);
        }
        float *col[9];
        for (int k = 0; k < 9; k++) col[k] = s->cols + (size_t)k * n;
        for (int k = 0; k < 9; k++) if (slot_prop[k] < 0) memset(col[k], 0, sizeof(float) * n);
        for (size_t i = 0; i < n && !c.err; i++)
            for (int j = 0; j < ve->nprops; j++) {
                double v = read_prop(&c, &ve->props[j]);
                if (sl[j] >= 0) col[sl[j]][i] = (float)v;
            }
        if (sl != slot) free(sl);
        if (c.err) { why = "file truncated or malformed in the vertex element"; goto bad; }
        vblock v;
        for (size_t i = 0; i < n; i += BLOCK, xo += 2 * BLOCK, yo += 6 * BLOCK) {
            const size_t m = n - i < BLOCK ? n - i : BLOCK;
            for (size_t j = 0; j < m; j++) {
                v.x[j] = col[0][i + j]; v.y[j] = col[1][i + j]; v.z[j] = col[2][i + j];
                v.nx[j] = col[3][i + j]; v.ny[j] = col[4][i + j]; v.nz[j] = col[5][i + j];
                v.r[j] = col[6][i + j] * COLOR_SCALE;
                v.g[j] = col[7][i + j] * COLOR_SCALE;
                v.b[j] = col[8][i + j] * COLOR_SCALE;
            }
            emit_block(jb, id, m, &v, xo, yo);
        }
    }
    o->rows = n;
    rc = 0;
    goto done;
bad:
    fprintf(stderr, "%s: %s: bad PLY: %s\n", prog, path, why);
done:
    for (int e = 0; e < nelems; e++) free(elems[e].props);
    return rc;
}

/* --------------------------------------------------------------- output -- */

static int open_out(const char *dir, const char *name, char **path_out) {
    size_t a = strlen(dir), b = strlen(name);
    char *path = xmalloc(a + b + 2);
    memcpy(path, dir, a);
    path[a] = '/';
    memcpy(path + a + 1, name, b + 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) { fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, strerror(errno)); exit(2); }
    *path_out = path;
    return fd;
}

static void write_all(int fd, const char *path, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
            exit(2);
        }
        p += w;
        len -= (size_t)w;
    }
}

typedef struct {
    int fx, fy;
    char *px, *py;
} outputs;

static void write_rows(const outputs *out, const rows_buf *o) {
    write_all(out->fx, out->px, o->x, sizeof(float) * 2 * o->rows);
    write_all(out->fy, out->py, o->y, sizeof(float) * 6 * o->rows);
}

/* -------------------------------------------------------------- threads -- */

typedef struct {
    const job *jb;
    char **files;
    size_t nfiles;
    int have_id;
    float fixed_id;
    /* ring of nslots per-file buffers: file k uses slot k % nslots */
    rows_buf *slots;
    int *done;
    size_t nslots;
    size_t next;    /* next file to claim */
    size_t written; /* files written so far */
    pthread_mutex_t mu;
    pthread_cond_t space, ready;
} pool;

static void *worker(void *arg) {
    pool *pl = arg;
    scratch s = {0};
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        while (pl->next < pl->nfiles && pl->next >= pl->written + pl->nslots) pthread_cond_wait(&pl->space, &pl->mu);
        if (pl->next >= pl->nfiles) { pthread_mutex_unlock(&pl->mu); break; }
        size_t k = pl->next++;
        pthread_mutex_unlock(&pl->mu);

        rows_buf *o = &pl->slots[k % pl->nslots];
        const float id = pl->have_id ? pl->fixed_id : random_id();
        o->ok = compile_file(pl->jb, pl->files[k], id, &s, o) == 0;

        pthread_mutex_lock(&pl->mu);
        pl->done[k % pl->nslots] = 1;
        pthread_cond_broadcast(&pl->ready);
        pthread_mutex_unlock(&pl->mu);
    }
    free(s.file);
    free(s.cols);
    return NULL;
}

/* ---------------------------------------------------------------- micro -- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t splitmix(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uniform(void) { return (double)(splitmix() >> 11) * 0x1.0p-53; }

/* Time nearest queries at points near the unit sphere (uniform direction,
 * radius uniform in [0.95, 1.05], float32): the cube map on `nq` of them, the
 * brute force on the first `nb`, and check that both agree there. */
static int micro(const icosphere *ico, const cube_map *cm, size_t nq, size_t nb) {
    if (nb > nq) nb = nq;
    float *pts = xmalloc(sizeof(float) * 3 * (nq ? nq : 1));
    for (size_t i = 0; i < nq; i++) {
        double x, y, z, r2;
        do {
            x = 2 * uniform() - 1; y = 2 * uniform() - 1; z = 2 * uniform() - 1;
            r2 = x * x + y * y + z * z;
        } while (r2 > 1 || r2 < 1e-6);
        double s = (0.95 + 0.1 * uniform()) / sqrt(r2);
        pts[3 * i] = (float)(x * s); pts[3 * i + 1] = (float)(y * s); pts[3 * i + 2] = (float)(z * s);
    }
    uint32_t *hash_idx = xmalloc(sizeof(uint32_t) * (nq ? nq : 1));
    size_t mismatches = 0;
    /* warm up */
    for (size_t i = 0; i < nq && i < 10000; i++) hash_idx[i] = nearest(ico, cm, pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]);
    double t0 = now();
    uint64_t hsum = 0;
    for (size_t i = 0; i < nq; i++) {
        uint32_t k = nearest(ico, cm, pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]);
        hash_idx[i] = k;
        hsum += k;
    }
    double th = now() - t0;
    t0 = now();
    uint64_t bhsum = 0;
    for (size_t i = 0; i < nq; i += BLOCK) {
        size_t m = nq - i < BLOCK ? nq - i : BLOCK;
        float bx[BLOCK], by[BLOCK], bz[BLOCK];
        uint32_t out[BLOCK];
        for (size_t j = 0; j < m; j++) { bx[j] = pts[3 * (i + j)]; by[j] = pts[3 * (i + j) + 1]; bz[j] = pts[3 * (i + j) + 2]; }
        nearest_block(ico, cm, m, bx, by, bz, out);
        for (size_t j = 0; j < m; j++) { bhsum += out[j]; mismatches += out[j] != hash_idx[i + j]; }
    }
    double tbh = now() - t0;
    t0 = now();
    uint64_t bsum = 0;
    for (size_t i = 0; i < nb; i++) {
        uint32_t k = nearest_brute(ico, pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]);
        bsum += k;
        mismatches += k != hash_idx[i];
    }
    double tb = now() - t0;
    size_t ns = nb < 2000 ? nb : 2000; /* the literal reference loop, on a few */
    t0 = now();
    uint64_t ssum = 0;
    for (size_t i = 0; i < ns; i++) {
        uint32_t k = nearest_brute_scalar(ico, pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]);
        ssum += k;
        mismatches += k != hash_idx[i];
    }
    double tsc = now() - t0;
    uint64_t hsub = 0;
    for (size_t i = 0; i < nb; i++) hsub += hash_idx[i];
    printf("micro: icosphere %u vertices, cube map grid %d, %u candidates (%.2f per cell) in %u blocks of %d\n",
           ico->n, cm->grid, cm->ncand, (double)cm->ncand / (6.0 * cm->grid * cm->grid), cm->nblocks, LANES);
    printf("micro: hash %zu queries, %.2f ns/query, checksum %llu\n", nq, nq ? th * 1e9 / (double)nq : 0.0,
           (unsigned long long)hsum);
    printf("micro: hash-batched %zu queries, %.2f ns/query, checksum %llu (blocks of %d, prefetched)\n", nq,
           nq ? tbh * 1e9 / (double)nq : 0.0, (unsigned long long)bhsum, BLOCK);
    printf("micro: brute %zu queries, %.2f ns/query, checksum %llu (%s)\n", nb, nb ? tb * 1e9 / (double)nb : 0.0,
           (unsigned long long)bsum,
#ifdef HAVE_AVX2_FMA
           "AVX2+FMA"
#else
           "scalar"
#endif
    );
    printf("micro: brute-scalar %zu queries, %.2f ns/query, checksum %llu\n", ns, ns ? tsc * 1e9 / (double)ns : 0.0,
           (unsigned long long)ssum);
    printf("micro: hash checksum over the brute-force queries %llu, mismatches %zu\n", (unsigned long long)hsub,
           mismatches);
    free(pts);
    free(hash_idx);
    return mismatches ? 1 : 0;
}

/* ----------------------------------------------------------------- main -- */

static void usage(void) {
    fprintf(stderr,
            "usage: %s [-j N] [--id F] (ICOSPHERE.f32 | --level L) OUT_DIR FILE.ply [FILE.ply ...]\n"
            "       %s --micro (ICOSPHERE.f32 | --level L) [QUERIES [BRUTE_QUERIES]]\n"
            "       %s --dump-tables (ICOSPHERE.f32 | --level L) OUT_DIR\n"
            "  appends rows for each PLY file, in argument order, to OUT_DIR/train_x.dat and\n"
            "  OUT_DIR/train_y.dat (headsnet's legacy projection: bit-identical to the reference)\n"
            "  -j N          compile on N threads (default 1)\n"
            "  --id F        model id F for every file (default: a random id per file)\n"
            "  --level L     generate headsnet's icosphere of subdivision level L (0-%d) instead of\n"
            "                reading a float32 x y z table\n"
            "  --micro       time nearest-vertex queries: cube map vs brute force (defaults 1000000 and\n"
            "                20000 queries), print ns/query and checksums\n"
            "  --dump-tables write OUT_DIR/icosphere.f32 and OUT_DIR/cubemap.u32 ([grid, cell starts...,\n"
            "                candidates...], u32 LE) for comparison with src/\n",
            prog, prog, prog, MAX_ICOSPHERE_LEVEL);
    exit(2);
}

static int parse_int(const char *s, long lo, long hi, const char *what) {
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (*e || e == s || errno || v < lo || v > hi) {
        fprintf(stderr, "%s: bad %s '%s' (expected %ld to %ld)\n", prog, what, s, lo, hi);
        usage();
    }
    return (int)v;
}

int main(int argc, char **argv) {
    int have_id = 0, threads = 1, level = -1, mode = 0; /* 0 compile, 1 micro, 2 dump */
    float fixed_id = 0;
    int a = 1;
    for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
        if (strcmp(argv[a], "--") == 0) { a++; break; }
        if (strcmp(argv[a], "--id") == 0 && a + 1 < argc) {
            char *e;
            fixed_id = strtof(argv[++a], &e);
            if (*e || e == argv[a]) { fprintf(stderr, "%s: bad --id value '%s'\n", prog, argv[a]); usage(); }
            have_id = 1;
        } else if (strcmp(argv[a], "-j") == 0 && a + 1 < argc) {
            threads = parse_int(argv[++a], 1, 1024, "-j");
        } else if (strncmp(argv[a], "-j", 2) == 0 && argv[a][2]) {
            threads = parse_int(argv[a] + 2, 1, 1024, "-j");
        } else if (strcmp(argv[a], "--level") == 0 && a + 1 < argc) {
            level = parse_int(argv[++a], 0, MAX_ICOSPHERE_LEVEL, "--level");
        } else if (strcmp(argv[a], "--micro") == 0) {
            mode = 1;
        } else if (strcmp(argv[a], "--dump-tables") == 0) {
            mode = 2;
        } else if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            usage();
        } else {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, argv[a]);
            usage();
        }
    }
    const char *ico_path = NULL;
    if (level < 0) {
        if (a >= argc) usage();
        ico_path = argv[a++];
    }

    icosphere ico;
    icosphere_load(&ico, ico_path, level);
    double tb0 = now();
    cube_map cm;
    cube_map_build(&cm, &ico);
    double tbuild = now() - tb0;

    if (mode == 1) {
        size_t nq = 1000000, nb = 20000;
        if (a < argc) nq = (size_t)parse_int(argv[a++], 1, 1000000000, "query count");
        if (a < argc) nb = (size_t)parse_int(argv[a++], 0, 1000000000, "brute-force query count");
        if (a < argc) usage();
        printf("micro: cube map built in %.2f ms\n", tbuild * 1e3);
        return micro(&ico, &cm, nq, nb);
    }
    if (mode == 2) {
        if (argc - a != 1) usage();
        char *pi, *ph;
        int fi = open_out(argv[a], "icosphere.f32", &pi), fh = open_out(argv[a], "cubemap.u32", &ph);
        if (ftruncate(fi, 0) != 0 || ftruncate(fh, 0) != 0) { perror(prog); return 2; }
        write_all(fi, pi, ico.xyz, sizeof(float) * 3 * ico.n);
        uint32_t g = (uint32_t)cm.grid;
        write_all(fh, ph, &g, 4);
        write_all(fh, ph, cm.cell_start, sizeof(uint32_t) * (6 * (size_t)g * g + 1));
        write_all(fh, ph, cm.cand, sizeof(uint32_t) * cm.ncand);
        close(fi);
        close(fh);
        return 0;
    }

    if (argc - a < 2) usage();
    const char *out_dir = argv[a];
    char **files = argv + a + 1;
    size_t nfiles = (size_t)(argc - a - 1);
    outputs out;
    out.fx = open_out(out_dir, "train_x.dat", &out.px);
    out.fy = open_out(out_dir, "train_y.dat", &out.py);
    job jb = {&ico, &cm, 1.0f / (float)(3u * ico.n)};
    if ((size_t)threads > nfiles) threads = (int)nfiles;

    fprintf(stderr, "%s: icosphere %u vertices (%s), cube map grid %d, %u candidates, built in %.1f ms\n", prog, ico.n,
            ico_path ? ico_path : "generated", cm.grid, cm.ncand, tbuild * 1e3);
    double t0 = now();
    size_t done_files = 0, rows = 0;
    int failed = 0;
    if (threads <= 1) {
        scratch s = {0};
        rows_buf o = {0};
        for (size_t k = 0; k < nfiles; k++) {
            const float id = have_id ? fixed_id : random_id();
            if (compile_file(&jb, files[k], id, &s, &o) != 0) { failed = 1; continue; }
            write_rows(&out, &o);
            done_files++;
            rows += o.rows;
        }
        free(s.file); free(s.cols); free(o.x); free(o.y);
    } else {
        pool pl;
        memset(&pl, 0, sizeof pl);
        pl.jb = &jb;
        pl.files = files;
        pl.nfiles = nfiles;
        pl.have_id = have_id;
        pl.fixed_id = fixed_id;
        pl.nslots = 2 * (size_t)threads;
        pl.slots = calloc(pl.nslots, sizeof *pl.slots);
        pl.done = calloc(pl.nslots, sizeof *pl.done);
        if (!pl.slots || !pl.done) die_oom();
        pthread_mutex_init(&pl.mu, NULL);
        pthread_cond_init(&pl.space, NULL);
        pthread_cond_init(&pl.ready, NULL);
        pthread_t *tids = xmalloc(sizeof(pthread_t) * (size_t)threads);
        for (int t = 0; t < threads; t++)
            if (pthread_create(&tids[t], NULL, worker, &pl) != 0) { fprintf(stderr, "%s: cannot start threads\n", prog); return 2; }
        for (size_t k = 0; k < nfiles; k++) {
            size_t sl = k % pl.nslots;
            pthread_mutex_lock(&pl.mu);
            while (!pl.done[sl]) pthread_cond_wait(&pl.ready, &pl.mu);
            pthread_mutex_unlock(&pl.mu);
            rows_buf *o = &pl.slots[sl];
            if (o->ok) {
                write_rows(&out, o);
                done_files++;
                rows += o->rows;
            } else {
                failed = 1;
            }
            pthread_mutex_lock(&pl.mu);
            pl.done[sl] = 0;
            pl.written = k + 1;
            pthread_cond_broadcast(&pl.space);
            pthread_mutex_unlock(&pl.mu);
        }
        for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
        for (size_t k = 0; k < pl.nslots; k++) { free(pl.slots[k].x); free(pl.slots[k].y); }
        free(pl.slots);
        free(pl.done);
        free(tids);
    }
    if (close(out.fx) != 0 || close(out.fy) != 0) { fprintf(stderr, "%s: cannot write %s: %s\n", prog, out_dir, strerror(errno)); return 2; }
    double s = now() - t0;
    fprintf(stderr, "%s: %zu files, %zu rows, %.3f s, %.0f rows/s, %d threads\n", prog, done_files, rows, s,
            s > 0 ? (double)rows / s : 0.0, threads < 1 ? 1 : threads);
    free(out.px);
    free(out.py);
    return failed ? 1 : 0;
}
