/*
 * The corpus-scale benchmark's tools (bench/corpus-scale.ts):
 *
 *   io evict FILE...
 *       drop the files' pages from the page cache (posix_fadvise DONTNEED; no root needed), so
 *       that every contender starts cold: its inputs come from the disk.
 *
 *   io floor [-t THREADS] [--read-only | --write-only] OUT_DIR LIST
 *       the disk floor of a compile: read each file's header and vertex element (the bytes a
 *       compile of files with normals reads), with THREADS readers, while writing 32 bytes per
 *       vertex to OUT_DIR/train_x.dat and train_y.dat (8 and 24, what the rows take), then
 *       fdatasync both. LIST is a file of input paths, one a line. Prints bytes read and written.
 *       --read-only and --write-only time each half alone (write-only writes what the headers
 *       say, reading nothing but them).
 *
 * A vertex element's size comes from the binary PLY header: its count times the sum of its
 * scalar properties' sizes (list properties in the vertex element are not supported).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *prog = "io";

static void die(const char *what, const char *path) {
    fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(errno));
    exit(1);
}

static int type_size(const char *t) {
    if (!strcmp(t, "char") || !strcmp(t, "uchar") || !strcmp(t, "int8") || !strcmp(t, "uint8")) return 1;
    if (!strcmp(t, "short") || !strcmp(t, "ushort") || !strcmp(t, "int16") || !strcmp(t, "uint16")) return 2;
    if (!strcmp(t, "int") || !strcmp(t, "uint") || !strcmp(t, "float") || !strcmp(t, "int32") || !strcmp(t, "uint32") || !strcmp(t, "float32")) return 4;
    if (!strcmp(t, "double") || !strcmp(t, "float64")) return 8;
    return -1;
}

/* The header's length and the vertex element's end (bytes from the start), and the vertex count. */
static int vertex_region(const char *head, size_t n, size_t *end, size_t *count) {
    const char *stop = memmem(head, n, "end_header\n", 11);
    if (!stop) return -1;
    size_t body = (size_t)(stop - head) + 11;
    size_t stride = 0, vertices = 0, before = 0;
    int in_vertex = 0, seen_vertex = 0;
    for (const char *p = head; p < stop;) {
        const char *e = memchr(p, '\n', (size_t)(stop - p));
        if (!e) e = stop;
        char line[256];
        size_t len = (size_t)(e - p) < sizeof line - 1 ? (size_t)(e - p) : sizeof line - 1;
        memcpy(line, p, len);
        line[len] = 0;
        char a[64], b[64], c[64];
        unsigned long long k;
        if (sscanf(line, "element %63s %llu", a, &k) == 2) {
            if (in_vertex) break;
            in_vertex = !strcmp(a, "vertex");
            if (in_vertex) { vertices = (size_t)k; seen_vertex = 1; }
        } else if (in_vertex && sscanf(line, "property %63s %63s %63s", a, b, c) >= 2) {
            int s = type_size(a);
            if (s < 0) return -1; /* a list in the vertex element */
            stride += (size_t)s;
        } else if (!seen_vertex && sscanf(line, "property %63s", a) == 1) {
            (void)before;
            return -1; /* elements before the vertices: not a corpus this tool measures */
        }
        p = e + 1;
    }
    if (!seen_vertex) return -1;
    *end = body + vertices * stride;
    *count = vertices;
    return 0;
}

static int evict(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) die("cannot open", argv[i]);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
    return 0;
}

static char **paths;
static size_t npaths;
static atomic_size_t next_file;
static atomic_ullong bytes_read;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static int out_x, out_y;
static unsigned long long bytes_written;
static int do_read = 1, do_write = 1;
#define CHUNK (8u << 20)
static char zeros[24 * 65536];

static void write_all(int fd, size_t n, const char *what) {
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        ssize_t w = write(fd, zeros, k);
        if (w < 0) die("cannot write", what);
        n -= (size_t)w;
        bytes_written += (unsigned long long)w;
    }
}

static void *reader(void *arg) {
    (void)arg;
    char *buf = malloc(CHUNK);
    if (!buf) die("out of memory", "");
    for (;;) {
        size_t i = atomic_fetch_add(&next_file, 1);
        if (i >= npaths) break;
        int fd = open(paths[i], O_RDONLY);
        if (fd < 0) die("cannot open", paths[i]);
        ssize_t got = pread(fd, buf, 65536, 0);
        if (got <= 0) die("cannot read", paths[i]);
        size_t end, count;
        if (vertex_region(buf, (size_t)got, &end, &count) != 0) { fprintf(stderr, "%s: %s: not a binary PLY this tool reads\n", prog, paths[i]); exit(1); }
        unsigned long long done = (unsigned long long)got;
        for (size_t at = (size_t)got; do_read && at < end;) {
            size_t want = end - at < CHUNK ? end - at : CHUNK;
            ssize_t n = pread(fd, buf, want, (off_t)at);
            if (n <= 0) die("cannot read", paths[i]);
            at += (size_t)n;
            done += (unsigned long long)n;
        }
        close(fd);
        atomic_fetch_add(&bytes_read, done);
        if (!do_write) continue;
        pthread_mutex_lock(&write_lock);
        write_all(out_x, count * 8, "train_x.dat");
        write_all(out_y, count * 24, "train_y.dat");
        pthread_mutex_unlock(&write_lock);
    }
    free(buf);
    return NULL;
}

static int floor_run(int argc, char **argv) {
    int threads = 1, a = 0;
    for (;;) {
        if (a + 1 < argc && !strcmp(argv[a], "-t")) { threads = atoi(argv[a + 1]); a += 2; }
        else if (a < argc && !strcmp(argv[a], "--read-only")) { do_write = 0; a++; }
        else if (a < argc && !strcmp(argv[a], "--write-only")) { do_read = 0; a++; }
        else break;
    }
    if (argc - a != 2 || threads < 1) { fprintf(stderr, "usage: %s floor [-t THREADS] [--read-only | --write-only] OUT_DIR LIST\n", prog); return 2; }
    const char *out = argv[a], *list = argv[a + 1];
    FILE *f = fopen(list, "r");
    if (!f) die("cannot open", list);
    size_t cap = 1024;
    paths = malloc(cap * sizeof *paths);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        if (npaths == cap) paths = realloc(paths, (cap *= 2) * sizeof *paths);
        paths[npaths++] = strdup(line);
    }
    fclose(f);
    char px[4096], py[4096];
    snprintf(px, sizeof px, "%s/train_x.dat", out);
    snprintf(py, sizeof py, "%s/train_y.dat", out);
    out_x = open(px, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    out_y = open(py, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out_x < 0 || out_y < 0) die("cannot create", out);
    pthread_t *t = malloc((size_t)threads * sizeof *t);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    if (fdatasync(out_x) || fdatasync(out_y)) die("cannot sync", out);
    close(out_x);
    close(out_y);
    printf("{\"files\": %zu, \"bytesRead\": %llu, \"bytesWritten\": %llu}\n", npaths, (unsigned long long)atomic_load(&bytes_read), bytes_written);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "evict")) return evict(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "floor")) return floor_run(argc - 2, argv + 2);
    fprintf(stderr, "usage: %s evict FILE... | %s floor [-t THREADS] [--read-only | --write-only] OUT_DIR LIST\n", prog, prog);
    return 2;
}
