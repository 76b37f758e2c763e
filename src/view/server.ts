// `headsnet view`: a local web server (127.0.0.1 only) for the viewer page. It serves the page,
// three.js and TensorFlow.js from node_modules, the input's facts as JSON and its points as
// binary, and, for a trained model, model.json and the weight files it lists, and the network's
// input rows for an id (/api/inputs: the rows sample and render feed, from heads.ts) and the
// grid's triangles (/api/faces), so the page's heads are theirs. Nothing else.

import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AddressInfo } from "node:net";
import { PACKAGE_ROOT, VERSION } from "../package.js";
import { HeadsnetError, opt } from "../errors.js";
import { openSource, sourceIcosphere, type Cloud, type OpenOptions, type Source } from "./source.js";
import { BACKGROUND, VIEW_DIRECTIONS, type ColorMode, type ViewName } from "./raster.js";
import { errors } from "../errors.js";
import { headInputs } from "../train/heads.js";
import { describeEncoding } from "../train/encoding.js";

export interface ViewOptions extends OpenOptions {
  input: string;
  /** Port on 127.0.0.1 (default 0: a free port). */
  port?: number;
  /** The picture the page opens with. */
  view?: ViewName;
  color?: ColorMode;
  /** Dataset: the model to open with (path or id). */
  model?: string;
  /** Trained model: the id to open with. */
  id?: number;
}

export interface ViewServer {
  url: string;
  port: number;
  kind: Source["kind"];
  close(): Promise<void>;
}

export const HOST = "127.0.0.1";

/** Binary clouds: "HSN1", count, flags (1: index, 2: faces), triangles; then the arrays. */
export const CLOUD_MAGIC = 0x314e5348;
export const CLOUD_HAS_INDEX = 1;
export const CLOUD_HAS_FACES = 2;

export function encodeCloud(cloud: Cloud): Buffer {
  const triangles = cloud.faces ? cloud.faces.length / 3 : 0;
  const parts: Uint8Array[] = [];
  const head = new Uint32Array([CLOUD_MAGIC, cloud.count, (cloud.index ? CLOUD_HAS_INDEX : 0) | (triangles ? CLOUD_HAS_FACES : 0), triangles]);
  for (const a of [head, cloud.positions, cloud.colors, cloud.index, triangles ? cloud.faces : undefined]) {
    if (a) parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return Buffer.concat(parts);
}

const require = createRequire(import.meta.url);

function vendorFiles(): Map<string, string> {
  const threeBuild = dirname(require.resolve("three"));
  const threeRoot = dirname(threeBuild);
  const tfDist = dirname(require.resolve("@tensorflow/tfjs"));
  return new Map([
    ["/vendor/three/build/three.module.js", join(threeBuild, "three.module.js")],
    ["/vendor/three/build/three.core.js", join(threeBuild, "three.core.js")],
    ["/vendor/three/examples/jsm/controls/OrbitControls.js", join(threeRoot, "examples/jsm/controls/OrbitControls.js")],
    ["/vendor/tf.min.js", join(tfDist, "tf.min.js")],
  ]);
}

const PAGE_DIR = join(PACKAGE_ROOT, "src", "view", "page");
const PAGE_FILES = new Map([
  ["/", ["index.html", "text/html; charset=utf-8"]],
  ["/index.html", ["index.html", "text/html; charset=utf-8"]],
  ["/app.js", ["app.js", "text/javascript; charset=utf-8"]],
]);

/** What the page needs to know before it fetches points. */
export function pageInfo(source: Source, options: ViewOptions): Record<string, unknown> {
  const common = {
    tool: "headsnet",
    version: VERSION,
    kind: source.kind,
    input: options.input,
    view: options.view ?? "three-quarter",
    color: options.color ?? "rgb",
    background: BACKGROUND,
    views: VIEW_DIRECTIONS,
  };
  const models = (d: { models: { path: string; id: number; rows: number; firstRow: number }[] }) =>
    d.models.map((m) => ({ path: m.path, id: m.id, rows: m.rows, firstRow: m.firstRow }));
  if (source.kind === "ply") {
    return { ...common, title: source.path, facts: source.facts, icosphere: { count: source.icosphere.count, source: source.icosphere.source } };
  }
  if (source.kind === "dataset") {
    const m = source.manifest;
    return {
      ...common,
      title: source.dir,
      selected: source.select(options.model),
      models: models(source),
      icosphere: { count: source.icosphereCount, source: m.icosphere!.source },
      facts: { rows: m.rows, models: m.models.length, failed: m.failed?.length ?? 0, options: m.options, columns: m.columns, files: m.files, version: m.version },
    };
  }
  const dataset = source.dataset;
  return {
    ...common,
    title: source.dir,
    model: { url: "/model/model.json", files: source.weightFiles },
    id: options.id ?? (dataset ? dataset.models[0].id : 0.5),
    dataset: dataset ? { dir: dataset.dir, rows: dataset.manifest.rows } : null,
    models: dataset ? models(dataset) : [],
    icosphere: { count: source.icosphereCount },
    encoding: { name: source.encoding.name, text: describeEncoding(source.encoding), inputs: source.encoder.width },
    faces: source.grid.faces ? source.grid.faces.length / 3 : 0,
  };
}

/** Start the viewer's server. Errors about the input (naming the file) are thrown before it listens. */
export async function startViewServer(options: ViewOptions): Promise<ViewServer> {
  const source = openSource(options.input, options);
  const info = JSON.stringify(pageInfo(source, options));
  const vendor = vendorFiles();
  let icosphereBytes: Buffer | undefined;
  let port = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", `http://${HOST}`);
    // Only pages loaded from this server: another site's page must not read the data through a
    // name that resolves to 127.0.0.1 (DNS rebinding).
    const host = req.headers.host ?? "";
    if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) return send(res, 403, "text/plain", "forbidden host\n");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "only GET\n");
    const path = url.pathname;
    const page = PAGE_FILES.get(path);
    if (page) return send(res, 200, page[1], readFileSync(join(PAGE_DIR, page[0])));
    const vendorFile = vendor.get(path);
    if (vendorFile) return send(res, 200, "text/javascript; charset=utf-8", readFileSync(vendorFile), "public, max-age=3600");
    if (path === "/favicon.ico") return send(res, 204, "text/plain", "");
    if (path === "/api/info") return send(res, 200, "application/json", info);
    if (path === "/api/icosphere") {
      const v = sourceIcosphere(source).vertices;
      icosphereBytes ??= Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      return send(res, 200, "application/octet-stream", icosphereBytes);
    }
    if (path === "/api/cloud") {
      if (source.kind === "ply") return send(res, 200, "application/octet-stream", encodeCloud(source.cloud));
      const dataset = source.kind === "dataset" ? source : source.dataset;
      if (!dataset) return send(res, 404, "text/plain", "this model has no training data: pass --data DIR\n");
      const k = Number(url.searchParams.get("model") ?? "0");
      if (!Number.isInteger(k) || k < 0 || k >= dataset.models.length) return send(res, 400, "text/plain", `model must be 0 to ${dataset.models.length - 1}\n`);
      return send(res, 200, "application/octet-stream", encodeCloud(dataset.read(k)));
    }
    if (source.kind === "model" && path === "/api/inputs") {
      const id = Number(url.searchParams.get("id"));
      if (!(id >= 0 && id <= 1)) return send(res, 400, "text/plain", "id must be a number from 0 to 1\n");
      const rows = headInputs(source.encoder, Math.fround(id), source.grid);
      return send(res, 200, "application/octet-stream", new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    }
    if (source.kind === "model" && path === "/api/faces") {
      const faces = source.grid.faces ?? new Uint32Array(0);
      return send(res, 200, "application/octet-stream", new Uint8Array(faces.buffer, faces.byteOffset, faces.byteLength));
    }
    if (source.kind === "model" && path.startsWith("/model/")) {
      const name = decodeURIComponent(path.slice("/model/".length));
      if (name === "model.json" || source.weightFiles.includes(name)) {
        return send(res, 200, name.endsWith(".json") ? "application/json" : "application/octet-stream", readFileSync(join(source.dir, name)));
      }
    }
    send(res, 404, "text/plain", `not found: ${path}\n`);
  };

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      const message = e instanceof HeadsnetError ? e.message : `internal error: ${(e as Error).message}`;
      if (!res.headersSent) send(res, 500, "text/plain", message + "\n");
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(errors.usage(`cannot listen on ${HOST}:${options.port ?? 0}: ${e.code === "EADDRINUSE" ? `the port is in use (pass another ${opt("port")}, or 0 for a free one)` : e.message}`)));
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    kind: source.kind,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, cache = "no-store"): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
    "cache-control": cache,
    "x-content-type-options": "nosniff",
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
