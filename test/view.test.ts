// `headsnet view` end to end in headless Chromium (the system's, driven by playwright-core): the
// page loads a PLY head, a compiled dataset and a trained model, shows the expected number of
// points, draws them (pixels that are not background), reacts to its controls, and logs no
// errors. Plus the server's boundaries and the CLI's start and stop, which need no browser.
//
// The browser: see test/browser.ts (without one the browser tests are skipped, saying so, unless
// HEADSNET_REQUIRE_BROWSER=1, as .ci/run sets, when they fail).

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skipBrowserTests } from "./browser.js";
import { spawn } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { startViewServer, type ViewServer } from "../src/view/server.js";
import { decodePng, countNonBackground } from "../src/view/png.js";
import { BACKGROUND } from "../src/view/raster.js";
import { openDataset } from "../src/view/source.js";
import { makeFixtures, saveTinyModel, type ViewFixtures } from "./view-fixtures.js";
import { join } from "node:path";

const SKIP_BROWSER = skipBrowserTests("test/view.test.ts");
const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const TIMEOUT = 120_000;
/** What the page may take to load, draw or generate: generous, as the machine may be busy. */
const PAGE_TIMEOUT = 90_000;

let fx: ViewFixtures;
let browser: Browser | undefined;
const servers: ViewServer[] = [];

beforeAll(async () => {
  fx = await makeFixtures("view");
}, TIMEOUT);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await browser?.close();
});

interface ViewState {
  ready: boolean;
  error: string | null;
  kind: string;
  panels: { label: string; points: number; triangles: number; icosphereVertices: number }[];
  generatedId: number | null;
  generations: number;
}

async function serve(options: Parameters<typeof startViewServer>[0]): Promise<ViewServer> {
  const server = await startViewServer(options);
  servers.push(server);
  return server;
}

/** Open the page; collect console errors and page errors. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 900, height: 560 } });
  page.setDefaultTimeout(PAGE_TIMEOUT);
  const errors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(url);
  await ready(page);
  return { page, errors };
}

async function ready(page: Page): Promise<ViewState> {
  await page.waitForFunction(() => {
    const s = (window as unknown as { headsnetView?: ViewState }).headsnetView;
    return s && (s.ready || s.error);
  }, null, { timeout: PAGE_TIMEOUT, polling: 50 });
  const state = await page.evaluate(() => (window as unknown as { headsnetView: ViewState }).headsnetView);
  expect(state.error).toBeNull();
  return state;
}

/** The canvas as the user sees it, and how many of its pixels are not background. */
async function canvasPixels(page: Page) {
  const image = decodePng(await page.locator("canvas#view").screenshot());
  return { image, covered: countNonBackground(image, BACKGROUND, 4), area: image.width * image.height };
}

function differing(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}

describe.skipIf(SKIP_BROWSER)("headsnet view in Chromium", () => {
  beforeAll(async () => {
    browser = await launchChromium();
  }, TIMEOUT);

  it("shows a PLY mesh with its vertex colours and header facts, as a surface or as points", async () => {
    const server = await serve({ input: fx.ply });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const { page, errors } = await open(server.url);
    const state = await ready(page);
    expect(state.kind).toBe("ply");
    expect(state.panels).toEqual([{ label: fx.ply, points: fx.vertices, triangles: 2 * (fx.vertices - 2), icosphereVertices: 0 }]);
    const facts = await page.locator("#facts").innerText();
    expect(facts).toContain("6,000");
    expect(facts).toContain("binary_little_endian");
    expect(facts).toContain("property uchar red");
    const surface = await canvasPixels(page);
    expect(surface.covered).toBeGreaterThan(0.1 * surface.area);
    expect(surface.covered).toBeLessThan(0.9 * surface.area);
    // Colours reach the screen unchanged: the corner is exactly the background.
    expect(Array.from(surface.image.data.subarray(0, 3))).toEqual([...BACKGROUND]);

    await page.locator("#surface").uncheck();
    const points = await canvasPixels(page);
    expect(points.covered).toBeGreaterThan(0.1 * points.area);
    expect(differing(surface.image.data, points.image.data)).toBeGreaterThan(1000);
    expect(errors).toEqual([]);
    await page.close();
  }, TIMEOUT);

  it("shows any compiled model by id or path, coloured by icosphere index, with each row's icosphere vertex", async () => {
    const server = await serve({ input: fx.data, model: fx.manifest.models[1].path });
    const { page, errors } = await open(server.url);
    let state = await ready(page);
    expect(state.kind).toBe("dataset");
    expect(state.panels.map((p) => p.points)).toEqual([fx.manifest.models[1].rows]);
    expect(await page.locator("select#model").inputValue()).toBe("1");
    const rgb = await canvasPixels(page);
    expect(rgb.covered).toBeGreaterThan(0.1 * rgb.area);

    // The other model, from the list.
    await page.locator("select#model").selectOption("0");
    state = await ready(page);
    expect(state.panels[0].label).toBe(`${fx.manifest.models[0].path} (id ${fx.manifest.models[0].id})`);
    expect(state.panels[0].points).toBe(fx.manifest.models[0].rows);

    await page.locator("#color-index").check();
    await page.waitForFunction(() => (window as unknown as { headsnetView: { colorMode: string } }).headsnetView.colorMode === "index");
    const index = await canvasPixels(page);
    expect(index.covered).toBeGreaterThan(0.1 * index.area);
    expect(differing(rgb.image.data, index.image.data)).toBeGreaterThan(0.05 * index.area);

    await page.locator("#show-icosphere").check();
    await page.waitForFunction(() => (window as unknown as { headsnetView: ViewState }).headsnetView.panels[0].icosphereVertices > 0);
    state = await ready(page);
    const used = new Set(openDataset(fx.data).read(0).index).size;
    expect(state.panels[0].icosphereVertices).toBe(used);
    const traced = await canvasPixels(page);
    expect(traced.covered).toBeGreaterThan(index.covered);
    expect(errors).toEqual([]);
    await page.close();

    // Selecting by id works as well as by path.
    const byId = await serve({ input: fx.data, model: String(fx.manifest.models[1].id) });
    const second = await open(byId.url);
    expect((await ready(second.page)).panels[0].points).toBe(fx.manifest.models[1].rows);
    expect(second.errors).toEqual([]);
    await second.page.close();
  }, TIMEOUT);

  it("generates a trained model's head in the page with TensorFlow.js, beside the nearest training head", async () => {
    const server = await serve({ input: fx.model, id: fx.manifest.models[0].id });
    const { page, errors } = await open(server.url);
    let state = await ready(page);
    expect(state.kind).toBe("model");
    expect(state.generations).toBe(1);
    expect(state.generatedId).toBe(fx.manifest.models[0].id);
    expect(state.panels.map((p) => p.points)).toEqual([fx.manifest.icosphere.vertices, fx.manifest.models[0].rows]);
    expect(state.panels[1].label).toBe(`training head ${fx.manifest.models[0].path} (id ${fx.manifest.models[0].id})`);
    const before = await canvasPixels(page);
    expect(before.covered).toBeGreaterThan(0.05 * before.area);

    // Move the slider to the other head's id: a new generation, and the other training head.
    const other = fx.manifest.models[1];
    await page.locator("input#id").evaluate((el: HTMLInputElement, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event("input"));
    }, other.id);
    await page.waitForFunction(() => (window as unknown as { headsnetView: ViewState }).headsnetView.generations >= 2);
    state = await ready(page);
    expect(state.generatedId).toBeCloseTo(other.id, 4);
    expect(state.panels[1].label).toBe(`training head ${other.path} (id ${other.id})`);
    const after = await canvasPixels(page);
    expect(differing(before.image.data, after.image.data)).toBeGreaterThan(100);
    expect(errors).toEqual([]);
    await page.close();
  }, TIMEOUT);
});

describe.skipIf(SKIP_BROWSER)("headsnet view in Chromium: a model with an encoding", () => {
  beforeAll(async () => {
    browser ??= await launchChromium();
  }, TIMEOUT);

  it("generates a fourier model's head in the page from the server's input rows, as a mesh on the icosphere", async () => {
    const dir = join(fx.root, "fourier");
    const ids = fx.manifest.models.map((m) => Math.fround(m.id)).sort((a, b) => a - b);
    const encoding = { name: "fourier", octaves: 2, scale: 1, id: "hat", ids, key: "radial", rowWidth: 2 };
    await saveTinyModel(dir, { dataset: "../data" }, ids.length + 3 + 12, { tool: "headsnet", inputs: ids.length + 15, outputs: 6, encoding });
    const server = await serve({ input: dir, id: fx.manifest.models[0].id, level: 3 });
    const { page, errors } = await open(server.url);
    const state = await ready(page);
    expect(state.kind).toBe("model");
    expect(state.panels[0]).toMatchObject({ points: 642, triangles: 1280 });
    expect(state.panels[1].label).toBe(`training head ${fx.manifest.models[0].path} (id ${fx.manifest.models[0].id})`);
    const pixels = await canvasPixels(page);
    expect(pixels.covered).toBeGreaterThan(0.02 * pixels.area);
    expect(errors).toEqual([]);
    await page.close();
  }, TIMEOUT);
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (c) => { body += c; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the view server", () => {
  it("serves the page's files and the model's, and nothing else", async () => {
    const server = await serve({ input: fx.model });
    expect((await get(server.url + "model/model.json")).status).toBe(200);
    expect((await get(server.url + "model/weights.bin")).status).toBe(200);
    expect((await get(server.url + "vendor/tf.min.js")).status).toBe(200);
    expect((await get(server.url + "model/..%2f..%2fdata%2fmanifest.json")).status).toBe(404);
    expect((await get(server.url + "src/view/server.ts")).status).toBe(404);
    expect((await get(server.url + "api/info", { host: "evil.example:80" })).status).toBe(403);
    const info = JSON.parse((await get(server.url + "api/info")).body);
    expect(info).toMatchObject({ kind: "model", dataset: { dir: fx.data }, icosphere: { count: fx.manifest.icosphere.vertices } });
  });

  it("bad input is a clear error naming the file, before anything listens", async () => {
    await expect(startViewServer({ input: `${fx.root}/nothing.ply` })).rejects.toThrow(`${fx.root}/nothing.ply: no such file or directory`);
    await expect(startViewServer({ input: fx.heads })).rejects.toThrow(`${fx.heads}: the directory holds neither manifest.json`);
    await expect(startViewServer({ input: fx.data, model: "0.5" })).rejects.toThrow(/no model "0\.5" in the manifest/);
  });

  it("headsnet view prints the URL on 127.0.0.1 and stops on Ctrl-C", async () => {
    const child = spawn(process.execPath, [BIN, "view", fx.ply], { env: { ...process.env, CI: "true" } });
    let out = "", err = "";
    child.stderr.on("data", (d) => { err += d; });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) resolve(m[0]);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const info = JSON.parse((await get(url + "api/info")).body);
    expect(info.kind).toBe("ply");
    expect(info.facts.vertices).toBe(fx.vertices);
    const code = await new Promise<number | null>((resolve) => {
      child.on("exit", (c) => resolve(c));
      child.kill("SIGINT");
    });
    expect(code).toBe(0);
    expect(out).toMatch(/headsnet view: stopped\n$/);
    expect(err).toBe("");
  }, TIMEOUT);
});
