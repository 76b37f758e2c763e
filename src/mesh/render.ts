// FaceNet's input image: a front view of the mesh in its colours, grayscale, drawn by the viewer's
// software renderer (src/view/raster.ts: orthographic, z-buffered, Lambert-shaded vertex colours,
// the mesh centred on its bounding box and scaled to fill 94% of the image).

import { renderPanels } from "../view/raster.js";

export interface FrontOptions {
  /** Background grey, 0-255 (default 0: black). */
  background?: number;
  /** Supersampling per axis (default 4: a 32×32 image is drawn at 128×128 and averaged). */
  supersample?: number;
}

/** The mesh as FaceNet sees it: positions, colours (0-1) and triangles, x y z / r g b packed. */
export interface RenderMesh {
  positions: Float32Array;
  colors: Float32Array;
  triangles: Uint32Array;
}

/**
 * A size × size 8-bit grayscale front view (the face toward -Y, Z up, as Blender exports heads),
 * rows top to bottom. Grey is the rendered colour's luma: 0.299 R + 0.587 G + 0.114 B, rounded.
 */
export function renderFront(mesh: RenderMesh, size = 32, options: FrontOptions = {}): Uint8Array {
  if (!(Number.isInteger(size) && size >= 1 && size <= 4096)) throw new RangeError(`image size must be an integer from 1 to 4096, got ${size}`);
  const grey = options.background ?? 0;
  const image = renderPanels(
    [{ cloud: { count: mesh.positions.length / 3, positions: mesh.positions, colors: mesh.colors, faces: mesh.triangles } }],
    { width: size, height: size, view: "front", supersample: options.supersample ?? 4, background: [grey, grey, grey] },
  );
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.round(0.299 * image.data[3 * i] + 0.587 * image.data[3 * i + 1] + 0.114 * image.data[3 * i + 2]);
  }
  return out;
}
