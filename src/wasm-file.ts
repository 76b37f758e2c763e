// The built WebAssembly modules under build/ (npm install builds them), compiled once per thread.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package.js";

const modules = new Map<string, WebAssembly.Module>();

/**
 * build/<name>.wasm, compiled: release, release-fma, debug, mesh, mesh-debug, train; or the
 * file at a path ending in .wasm (another build, which a benchmark compares in one process).
 */
export function wasmModule(name: string): WebAssembly.Module {
  let module = modules.get(name);
  if (!module) {
    const path = name.endsWith(".wasm") ? name : join(PACKAGE_ROOT, "build", `${name}.wasm`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new Error(`${path} is missing: the WebAssembly kernels are built by 'npm install' (or 'npm run build')`);
    }
    module = new WebAssembly.Module(new Uint8Array(bytes));
    modules.set(name, module);
  }
  return module;
}
