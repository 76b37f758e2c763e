// Nearest neighbours for the metrics: a k-d tree in one sorted array, as kdbush lays one out.
// A node is a range of the array; its middle element splits it along the widest side of the
// range's bounding box (the axis is kept per middle element) and the halves are its children;
// ranges of LEAF points or fewer are scanned. A query walks the tree depth first, near half
// first, skipping any range whose splitting plane is farther than the best distance so far.
// Building costs O(n log n) with quickselect; a query about log n steps plus a few leaves.

import { S_NO_MEMORY, MR_COUNT } from "../../src/abi";
import { alloc, fail, ok, setWord } from "./state";

const LEAF: i32 = 8;
const STACK: i32 = 128;

let points: usize = 0; // float32 x y z, in tree order
let ids: usize = 0; // u32: each tree slot's index in the caller's array
let axes: usize = 0; // u8: the split axis of the node whose middle element is this slot
let size: i32 = 0;

const stackLo: usize = memory.data(STACK * 4, 4);
const stackHi: usize = memory.data(STACK * 4, 4);
const stackBound: usize = memory.data(STACK * 8, 8);

@inline
function coord(source: usize, id: u32, axis: i32): f32 {
  return load<f32>(source + <usize>id * 12 + (<usize>axis << 2));
}

/** Put the slot with the k-th smallest coordinate on `axis` at k, smaller before, larger after. */
function select(source: usize, lo: i32, hi: i32, k: i32, axis: i32): void {
  while (hi > lo) {
    // Median of three as the pivot, then Hoare's partition.
    const mid = lo + ((hi - lo) >> 1);
    const a = coord(source, load<u32>(ids + (<usize>lo << 2)), axis);
    const b = coord(source, load<u32>(ids + (<usize>mid << 2)), axis);
    const c = coord(source, load<u32>(ids + (<usize>hi << 2)), axis);
    const pivot = max<f32>(min<f32>(a, b), min<f32>(max<f32>(a, b), c));
    let i = lo, j = hi;
    while (i <= j) {
      while (coord(source, load<u32>(ids + (<usize>i << 2)), axis) < pivot) i++;
      while (coord(source, load<u32>(ids + (<usize>j << 2)), axis) > pivot) j--;
      if (i <= j) {
        const t = load<u32>(ids + (<usize>i << 2));
        store<u32>(ids + (<usize>i << 2), load<u32>(ids + (<usize>j << 2)));
        store<u32>(ids + (<usize>j << 2), t);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** Build the tree over `count` float32 x y z points at `source` (copied; the source may go). */
export function kdBuild(source: usize, count: i32): i32 {
  size = count;
  ids = alloc(<usize>count * 4);
  axes = alloc(<usize>count);
  points = alloc(<usize>count * 12);
  if (count > 0 && (ids == 0 || axes == 0 || points == 0)) return fail(S_NO_MEMORY, 0, 0);
  for (let i: i32 = 0; i < count; i++) store<u32>(ids + (<usize>i << 2), i);
  let top = 0;
  if (count > LEAF) {
    store<i32>(stackLo, 0);
    store<i32>(stackHi, count - 1);
    top = 1;
  }
  while (top > 0) {
    top--;
    const lo = load<i32>(stackLo + (<usize>top << 2)), hi = load<i32>(stackHi + (<usize>top << 2));
    let minX: f32 = Infinity, minY: f32 = Infinity, minZ: f32 = Infinity;
    let maxX: f32 = -Infinity, maxY: f32 = -Infinity, maxZ: f32 = -Infinity;
    for (let i = lo; i <= hi; i++) {
      const p = source + <usize>load<u32>(ids + (<usize>i << 2)) * 12;
      const x = load<f32>(p), y = load<f32>(p, 4), z = load<f32>(p, 8);
      minX = min<f32>(minX, x); maxX = max<f32>(maxX, x);
      minY = min<f32>(minY, y); maxY = max<f32>(maxY, y);
      minZ = min<f32>(minZ, z); maxZ = max<f32>(maxZ, z);
    }
    const dx = maxX - minX, dy = maxY - minY, dz = maxZ - minZ;
    const axis = dx >= dy && dx >= dz ? 0 : dy >= dz ? 1 : 2;
    const mid = (lo + hi) >> 1;
    select(source, lo, hi, mid, axis);
    store<u8>(axes + <usize>mid, <u8>axis);
    if (mid - lo > LEAF) {
      store<i32>(stackLo + (<usize>top << 2), lo);
      store<i32>(stackHi + (<usize>top << 2), mid - 1);
      top++;
    }
    if (hi - mid > LEAF) {
      store<i32>(stackLo + (<usize>top << 2), mid + 1);
      store<i32>(stackHi + (<usize>top << 2), hi);
      top++;
    }
  }
  for (let i: i32 = 0; i < count; i++) {
    memory.copy(points + <usize>i * 12, source + <usize>load<u32>(ids + (<usize>i << 2)) * 12, 12);
  }
  return ok();
}

/**
 * For each of `count` float32 x y z queries at `queries`: the squared distance to its nearest
 * tree point (float64, at distOut) and that point's index (u32, at indexOut).
 */
export function kdNearest(queries: usize, count: i32, distOut: usize, indexOut: usize): i32 {
  for (let q: i32 = 0; q < count; q++) {
    const qp = queries + <usize>q * 12;
    const qx = <f64>load<f32>(qp), qy = <f64>load<f32>(qp, 4), qz = <f64>load<f32>(qp, 8);
    let best: f64 = Infinity;
    let bestSlot: i32 = -1;
    store<i32>(stackLo, 0);
    store<i32>(stackHi, size - 1);
    store<f64>(stackBound, 0);
    let top = size > 0 ? 1 : 0;
    while (top > 0) {
      top--;
      if (load<f64>(stackBound + (<usize>top << 3)) >= best) continue;
      const lo = load<i32>(stackLo + (<usize>top << 2)), hi = load<i32>(stackHi + (<usize>top << 2));
      if (hi - lo < LEAF) {
        for (let i = lo; i <= hi; i++) {
          const p = points + <usize>i * 12;
          const dx = <f64>load<f32>(p) - qx, dy = <f64>load<f32>(p, 4) - qy, dz = <f64>load<f32>(p, 8) - qz;
          const d = dx * dx + dy * dy + dz * dz;
          if (d < best) { best = d; bestSlot = i; }
        }
        continue;
      }
      const mid = (lo + hi) >> 1;
      const p = points + <usize>mid * 12;
      const dx = <f64>load<f32>(p) - qx, dy = <f64>load<f32>(p, 4) - qy, dz = <f64>load<f32>(p, 8) - qz;
      const d = dx * dx + dy * dy + dz * dz;
      if (d < best) { best = d; bestSlot = mid; }
      const axis = <i32>load<u8>(axes + <usize>mid);
      const split = axis == 0 ? -dx : axis == 1 ? -dy : -dz; // query minus the splitting point
      const plane = split * split;
      // Far half first (popped last), with the plane's distance as its bound; near half on top.
      if (split < 0) {
        if (hi > mid && plane < best) push(top++, mid + 1, hi, plane);
        if (mid > lo) push(top++, lo, mid - 1, 0);
      } else {
        if (mid > lo && plane < best) push(top++, lo, mid - 1, plane);
        if (hi > mid) push(top++, mid + 1, hi, 0);
      }
    }
    store<f64>(distOut + (<usize>q << 3), best);
    store<u32>(indexOut + (<usize>q << 2), bestSlot < 0 ? 0xffffffff : load<u32>(ids + (<usize>bestSlot << 2)));
  }
  setWord(MR_COUNT, count);
  return ok();
}

@inline
function push(at: i32, lo: i32, hi: i32, bound: f64): void {
  store<i32>(stackLo + (<usize>at << 2), lo);
  store<i32>(stackHi + (<usize>at << 2), hi);
  store<f64>(stackBound + (<usize>at << 3), bound);
}
