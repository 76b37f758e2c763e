// Angle-weighted vertex normals, as Blender computes them on import: each polygon adds its unit
// normal to each corner's vertex, weighted by the corner's angle. Shared by HeadsNet's kernel and
// the mesh kernel so that both give the same bits.

/**
 * Adds (nx, ny, nz) times the angle between the corner's edges u and w to the float32 normal at
 * row + 12 (a degenerate corner adds nothing).
 */
@inline
export function addCorner(row: usize, nx: f64, ny: f64, nz: f64, ux: f64, uy: f64, uz: f64, wx: f64, wy: f64, wz: f64): void {
  const lu = Math.sqrt(ux * ux + uy * uy + uz * uz), lw = Math.sqrt(wx * wx + wy * wy + wz * wz);
  if (lu == 0 || lw == 0) return;
  let cosine = (ux * wx + uy * wy + uz * wz) / (lu * lw);
  if (cosine > 1) cosine = 1;
  if (cosine < -1) cosine = -1;
  const angle = Math.acos(cosine);
  store<f32>(row, load<f32>(row, 12) + <f32>(nx * angle), 12);
  store<f32>(row, load<f32>(row, 16) + <f32>(ny * angle), 16);
  store<f32>(row, load<f32>(row, 20) + <f32>(nz * angle), 20);
}
