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
export const SLOT_COUNT = 9;
export const SLOT_NONE = 15;
// In a face element's layout: the list of vertex indices.
export const SLOT_FACE_INDICES = 14;

// Staged vertices, when normals are computed or positions rescaled: float32 x y z nx ny nz r g b.
export const STAGING_STRIDE = 36;
// The largest polygon whose normal is computed.
export const FACE_MAX_CORNERS = 4096;

// Layout block handed to the kernel: i32 words.
//   [0] format, [1] fixed record stride in bytes (0: records vary, e.g. list properties),
//   [2] property count, then LAYOUT_PROP_WORDS words per property:
//   type, list count type (T_NONE for a scalar), slot, byte offset in the record (fixed stride only).
export const LAYOUT_HEADER_WORDS = 3;
export const LAYOUT_PROP_WORDS = 4;
export const LAYOUT_MAX_PROPS = 64;
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
export const S_TOO_FAR = 10; // traced point 9999 or more from every icosphere vertex: the reference writes no row

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
