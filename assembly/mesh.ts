// The mesh kernel (build/mesh.wasm): meshes in, FaceNet voxels, NeuralParts surface samples,
// occupancy samples and nearest neighbours out. The HeadsNet kernel's PLY decoder reads the
// vertices; everything else lives in assembly/mesh/. The host (src/mesh/kernel.ts) resets the
// arena per file, loads the mesh, calls one target and copies its rows out; each call leaves a
// status and its counts in the result record (MR_* in src/abi.ts).

import { arenaReset } from "./mesh/state";
import { surfaceForget } from "./mesh/sample";
import { insideForget } from "./mesh/inside";

export { result, arenaTop, alloc } from "./mesh/state";
export { readPlyTriangles, decodePlainVertices, objCount, objParse, objNormals, finishMesh } from "./mesh/load";
export { voxelize } from "./mesh/voxels";
export { renderFront } from "./mesh/raster";
export { prepareSurface, prepareOccupancy, sampleSurface, sampleOccupancy, surfaceArea, labelPoints } from "./mesh/sample";
export { prepareInside } from "./mesh/inside";
export { kdBuild, kdNearest } from "./mesh/kdtree";
export { decodeVertices, skipElement, errorAddress, errorVertexIndex, cursorAddress } from "./index";
export { slots } from "./decode";

/** Forget the last file: its mesh, its tables and every allocation. */
export function reset(): void {
  arenaReset();
  surfaceForget();
  insideForget();
}
