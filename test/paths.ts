// Where tests find the reference data: ../shared/reference beside the repository (never a copy in it).
import { fileURLToPath } from "node:url";

export const REFERENCE_DIR = fileURLToPath(new URL("../../shared/reference/", import.meta.url));
export const GOLDEN_DIR = fileURLToPath(new URL("../../shared/reference/golden/", import.meta.url));
export const BLENDER_ICOSPHERE = fileURLToPath(new URL("../../shared/reference/icosphere_blender_10242.f32", import.meta.url));
export const GOLDEN_NAMES = ["head_00000", "head_00001", "head_00002", "head_00000_ascii", "head_00000_be", "full_head", "near_ties"];
