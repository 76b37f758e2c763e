"""Occupancy samples labelled inside/outside the fast numpy way, for bench/mesh.ts to time against.

Usage: occupancy.py DIR SAMPLES RUNS [POINTS.f32]
DIR as for surface.py. Prints one JSON line: wall and CPU seconds per run, the share inside, and with
POINTS.f32 (float32 x y z) also the labels of those points (inside.u8 beside them) for the
benchmark to compare with headsnet's.

Sampling as headsnet does it (half uniform in the bounding box grown by 0.1 of its largest side,
half surface samples plus isotropic Gaussian noise of 0.01 of that side), then a vectorised
ray-parity labeller with a grid acceleration, in the manner of Occupancy Networks' libmesh but
all numpy: a 2D grid over x y (cells a third of a triangle's size); each triangle is listed
in the cells its x y box covers (np.repeat); points are sorted by cell, each meets its cell's
triangles (a ragged expansion with np.repeat and cumulative sums), a 2D barycentric test and a
depth comparison count the crossings of the ray toward +z, and np.bincount takes their parity.
Chunks of points keep the candidate pairs in memory.
"""
import json
import sys
import time

import numpy as np


def load(d):
    p = np.fromfile(f"{d}/positions.f32", dtype="<f4").reshape(-1, 3).astype(np.float64)
    t = np.fromfile(f"{d}/triangles.u32", dtype="<u4").reshape(-1, 3).astype(np.int64)
    return p, t


class Labeller:
    def __init__(self, p, t):
        tri = p[t]  # T x 3 x 3
        self.lo = p.min(axis=0)
        self.hi = p.max(axis=0)
        area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
        # Cells a third of an average triangle's size: the fastest of factors 0.12 to 2 tried here
        # (coarser cells give every point more candidates; finer ones a bigger table).
        h = 0.35 * np.sqrt(2 * area / len(t))
        self.h = h
        self.n = np.maximum(np.ceil((self.hi[:2] - self.lo[:2]) / h).astype(np.int64), 1)
        tmin = tri[:, :, :2].min(axis=1)
        tmax = tri[:, :, :2].max(axis=1)
        c0 = np.clip(((tmin - self.lo[:2]) / h).astype(np.int64), 0, self.n - 1)
        c1 = np.clip(((tmax - self.lo[:2]) / h).astype(np.int64), 0, self.n - 1)
        spans = (c1 - c0 + 1)
        counts = spans[:, 0] * spans[:, 1]
        owner = np.repeat(np.arange(len(t)), counts)
        k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        sx = spans[owner, 0]
        cx = c0[owner, 0] + k % sx
        cy = c0[owner, 1] + k // sx
        cell = cy * self.n[0] + cx
        order = np.argsort(cell, kind="stable")
        self.cell_tri = owner[order]
        self.cell_start = np.searchsorted(cell[order], np.arange(self.n[0] * self.n[1] + 1))
        # Per triangle: the 2D barycentric system and the plane for the depth.
        a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
        self.a = a
        self.e1 = b - a
        self.e2 = c - a
        self.det = self.e1[:, 0] * self.e2[:, 1] - self.e1[:, 1] * self.e2[:, 0]

    def label(self, q, chunk=200_000):
        inside = np.zeros(len(q), dtype=bool)
        for s in range(0, len(q), chunk):
            inside[s:s + chunk] = self._label(q[s:s + chunk])
        return inside

    def _label(self, q):
        m = len(q)
        within = np.all((q >= self.lo) & (q <= self.hi), axis=1)
        cxy = ((q[:, :2] - self.lo[:2]) / self.h).astype(np.int64)
        cxy = np.clip(cxy, 0, self.n - 1)
        cell = cxy[:, 1] * self.n[0] + cxy[:, 0]
        start = self.cell_start[cell]
        count = np.where(within, self.cell_start[cell + 1] - start, 0)
        pt = np.repeat(np.arange(m), count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        tr = self.cell_tri[start[pt] + k]
        d = q[pt, :2] - self.a[tr, :2]
        det = self.det[tr]
        u = (d[:, 0] * self.e2[tr, 1] - d[:, 1] * self.e2[tr, 0]) / det
        v = (self.e1[tr, 0] * d[:, 1] - self.e1[tr, 1] * d[:, 0]) / det
        hit = (det != 0) & (u >= 0) & (v >= 0) & (u + v <= 1)
        z = self.a[tr, 2] + u * self.e1[tr, 2] + v * self.e2[tr, 2]
        hit &= z > q[pt, 2]
        crossings = np.bincount(pt[hit], minlength=m)
        return (crossings % 2 == 1) & within


def sample_points(p, t, n, rng):
    lo, hi = p.min(axis=0), p.max(axis=0)
    side = (hi - lo).max()
    lo, hi = lo - 0.1 * side, hi + 0.1 * side
    nu = n // 2
    uniform = lo + rng.random((nu, 3)) * (hi - lo)
    a, b, c = p[t[:, 0]], p[t[:, 1]], p[t[:, 2]]
    cdf = np.cumsum(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1))
    tri = np.minimum(np.searchsorted(cdf, rng.random(n - nu) * cdf[-1], side="right"), len(cdf) - 1)
    r1 = np.sqrt(rng.random(n - nu))[:, None]
    r2 = rng.random(n - nu)[:, None]
    near = (1 - r1) * a[tri] + r1 * (1 - r2) * b[tri] + r1 * r2 * c[tri]
    near += rng.normal(scale=0.01 * side, size=near.shape)
    return np.concatenate([uniform, near]).astype(np.float32).astype(np.float64)


def main():
    d, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    p, t = load(d)
    rng = np.random.default_rng(1)
    Labeller(p, t).label(sample_points(p, t, 10000, rng))  # warm up
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        q = sample_points(p, t, n, rng)
        inside = Labeller(p, t).label(q)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    result = {"seconds": times, "cpu": cpu, "inside": float(inside.mean()), "numpy": np.__version__}
    if len(sys.argv) > 4:
        pts = np.fromfile(sys.argv[4], dtype="<f4").reshape(-1, 3).astype(np.float64)
        Labeller(p, t).label(pts).astype(np.uint8).tofile(sys.argv[4].replace(".f32", ".inside.u8"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
