// What the WebAssembly kernel (assembly/) and the TypeScript host (src/) must agree on.
// This file is compiled by both asc and tsc, so it holds plain integer constants only.

// PLY scalar type codes.
export const T_NONE = 0;
export const T_I8 = 1;
export const T_U8 = 2;
export const T_I16 = 3;
export const T_U16 = 4;
export const T_I32 = 5;
export const T_U32 = 6;
export const T_F32 = 7;
export const T_F64 = 8;

// Body encodings.
export const FMT_ASCII = 0;
export const FMT_BINARY_LE = 1;
export const FMT_BINARY_BE = 2;

// Where a decoded vertex property goes. SLOT_NONE: read past it.
export const SLOT_X = 0;
export const SLOT_Y = 1;
export const SLOT_Z = 2;
export const SLOT_NX = 3;
export const SLOT_NY = 4;
export const SLOT_NZ = 5;
export const SLOT_R = 6;
export const SLOT_G = 7;
export const SLOT_B = 8;
// 3D Gaussian splats only: the opacity logit (their f_dc_0..2 go to the colour slots, raw).
export const SLOT_OPACITY = 9;
export const SLOT_COUNT = 10;
export const SLOT_NONE = 15;
// In a face element's layout: the list of vertex indices.
export const SLOT_FACE_INDICES = 14;

// Staged vertices, when normals are computed or positions rescaled: float32 x y z nx ny nz r g b.
export const STAGING_STRIDE = 36;
// Staged 3D Gaussian splats: float32 x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 opacity, which the host
// turns into staged vertices (src/splats.ts).
export const SPLAT_STAGING_STRIDE = 40;
// The largest polygon whose normal is computed.
export const FACE_MAX_CORNERS = 4096;

// Layout block handed to the kernel: i32 words.
//   [0] format, [1] fixed record stride in bytes (0: records vary, e.g. list properties),
//   [2] property count, then LAYOUT_PROP_WORDS words per property:
//   type, list count type (T_NONE for a scalar), slot, byte offset in the record (fixed stride only).
export const LAYOUT_HEADER_WORDS = 3;
export const LAYOUT_PROP_WORDS = 4;
// 3D Gaussian splat files have 62 properties with third-degree harmonics, and more with extras
// (per-splat features, filters): room for 256 costs 4 KiB.
export const LAYOUT_MAX_PROPS = 256;
export const LAYOUT_BYTES = (LAYOUT_HEADER_WORDS + LAYOUT_PROP_WORDS * LAYOUT_MAX_PROPS) * 4;

// Kernel options (bit flags).
export const OPT_PROJECTION_RAY = 1; // exact ray-sphere hit instead of the reference's step
export const OPT_INPUTS_5 = 2; // append [-nx, -ny, -nz] to each train_x row
export const OPT_SKIP_INVALID = 4; // skip (and count) vertices that cannot be traced: non-finite, too far, outside the sphere (ray)
export const OPT_RADIAL = 8; // ray projection without normals: trace each vertex straight out from the centre

// Row widths in float32s.
export const X_WIDTH_2 = 2;
export const X_WIDTH_5 = 5;
export const Y_WIDTH = 6;

// Kernel status codes. The kernel also reports the byte offset and vertex where it stopped.
export const S_OK = 0;
export const S_TRUNCATED = 1; // body ends before the header's counts are satisfied
export const S_BAD_NUMBER = 2; // ASCII token is not a number
export const S_NONFINITE = 3; // position or normal is NaN or infinite
export const S_OUTSIDE_SPHERE = 4; // ray projection: vertex on or outside the unit sphere
export const S_ZERO_NORMAL = 5; // ray projection: the normal has zero length
export const S_BAD_LIST = 6; // a list count is negative or absurd
export const S_BAD_TYPE = 7; // layout names a type the kernel cannot read
export const S_BAD_INDEX = 8; // a face refers to a vertex that does not exist
export const S_BIG_FACE = 9; // a face has more corners than FACE_MAX_CORNERS
export const S_TOO_FAR = 19; // traced point 9999 or more from every icosphere vertex: the reference writes no row

// Colour scale for uchar channels: the reference multiplies by this float32 constant.
export const UCHAR_COLOR_SCALE = 0.003921569;

// Spatial hash radius band (squared): outside it the kernel falls back to brute force.
export const HASH_RMIN = 0.0625;
export const HASH_RMAX = 4.0;

// The icosphere table in kernel memory: x y z and one float32 of padding per vertex (16 bytes).
export const TABLE_STRIDE = 16;

// Vertices decoded and traced per batch before their nearest-vertex lookups run back to back,
// so that the lookups' cache misses overlap.
export const TRACE_BATCH = 128;

// ---------------------------------------------------------------------------------------------
// The mesh kernel (assembly/mesh.ts, build/mesh.wasm): voxels, surface and occupancy samples,
// nearest neighbours. Its vertices are staging rows (STAGING_STRIDE), its triangles three u32.

// More status codes (the mesh kernel also returns the ones above).
export const S_NO_MEMORY = 10; // WebAssembly memory could not grow to what the mesh needs
export const S_NO_VERTICES = 11; // the file defines no vertices
export const S_NO_FACES = 12; // the file has no triangles, and the target needs them
export const S_SHORT_FACE = 13; // OBJ: a face with fewer than three corners
export const S_BAD_ARITY = 14; // OBJ: a "v" line without 3, 4 or 6 numbers, or a "vn" without 3
export const S_UNKNOWN_STATEMENT = 15; // OBJ: a line that starts with no OBJ keyword
export const S_MIXED_COLORS = 16; // OBJ: some "v" lines have colours and others do not
export const S_NO_AREA = 17; // the triangles have no area to sample
export const S_BAD_CORNER = 18; // OBJ: a face corner that is not v, v/vt, v//vn or v/vt/vn

// The mesh kernel's result record: i32 words at `result`, written by each call, read once.
export const MR_STATUS = 0;
export const MR_ERROR_AT = 1; // byte address where decoding stopped
export const MR_ITEM = 2; // the vertex or face (PLY) the error concerns
export const MR_VERTICES = 3;
export const MR_TRIANGLES = 4;
export const MR_FLAGS = 5; // MF_* below
export const MR_PTR = 6; // where the call's main output went (vertices, voxels, rows...)
export const MR_PTR2 = 7; // a second output (triangles, ...)
export const MR_COUNT = 8; // rows written, voxels occupied, points inside...
export const MR_NORMAL_COUNT = 9; // OBJ: "vn" lines
export const MR_GRID = 10; // inside test: cells along x, y, z (three words)
export const MR_RECORDS = 13; // inside test: triangle records over all cells
export const MR_WORDS = 16;

// Mesh flags (MR_FLAGS).
export const MF_FILE_NORMALS = 1; // normals from the file (else computed from the triangles)
export const MF_COLORS = 2; // the file has colours (else the default colour, or white)
export const MF_COLOR_BYTES = 4; // colours were uchar (0-255) in the file
export const MF_FINITE = 8; // decodePlainVertices: every value it wrote is finite

// Occupancy noise: isotropic Gaussian, or Gaussian along the sampled triangle's normal.
export const NOISE_ISOTROPIC = 0;
export const NOISE_NORMAL = 1;

// Rows the mesh kernel writes, in float32s.
export const SURFACE_WIDTH = 9; // x y z nx ny nz r g b
export const OCCUPANCY_WIDTH = 5; // x y z inside weight

// The inside test's triangle record: a b c (9 float32), the bounding box (6), edge flags (1).
export const INSIDE_RECORD_BYTES = 64;
