// The mesh targets' public API (issue #14): see targets.ts for the per-file entry point, kernel.ts
// for the kernel, metrics.ts for the metrics shared with the trainer's eval.
export { compileMeshTarget, MESH_TARGETS, type MeshTarget, type MeshTargetOptions, type MeshTargetResult } from "./targets.js";
export { MeshKernel, sampleSeed, type MeshInfo, type LoadOptions, type SurfaceOptions, type OccupancyOptions, type SampleSeed, type MeshFormat } from "./kernel.js";
export { renderFront, type FrontOptions, type RenderMesh } from "./render.js";
export { compareClouds, nearest, iou, occupancyColumns, surfacePointSet, type PointSet, type CloudMetrics, type FScore } from "./metrics.js";
