// The browser the viewer tests drive: $HEADSNET_CHROMIUM, else the first of chromium,
// chromium-browser, google-chrome on PATH (playwright-core's own download does not work here).
// Without one those tests are skipped, each file saying so in one line, unless
// HEADSNET_REQUIRE_BROWSER=1 (as .ci/run sets), when they fail.

import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { chromium, type Browser } from "playwright-core";

const BROWSERS = ["chromium", "chromium-browser", "google-chrome"];

/** $HEADSNET_CHROMIUM as given (a wrong path there is an error, not a skip), else the first browser on PATH. */
function findChromium(): string | undefined {
  if (process.env.HEADSNET_CHROMIUM) return process.env.HEADSNET_CHROMIUM;
  for (const name of BROWSERS) {
    for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        if (statSync(path).isFile()) return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export const CHROMIUM = findChromium();
const REQUIRE_BROWSER = process.env.HEADSNET_REQUIRE_BROWSER === "1";
const WHY_NO_BROWSER = `no browser: $HEADSNET_CHROMIUM is unset and none of ${BROWSERS.join(", ")} is on PATH`;

/** Whether `file`'s browser tests are to be skipped (no browser, none required); if so, says why in one line. */
export function skipBrowserTests(file: string): boolean {
  if (CHROMIUM || REQUIRE_BROWSER) return false;
  console.warn(`${file}: skipping the Chromium tests (${WHY_NO_BROWSER}); to run them, install Chromium (apt-get install chromium) or set HEADSNET_CHROMIUM=/path/to/chromium`);
  return true;
}

/** Headless Chromium; with HEADSNET_REQUIRE_BROWSER=1 and none found, an error saying so. */
export function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error(`HEADSNET_REQUIRE_BROWSER=1 but there is ${WHY_NO_BROWSER}; install Chromium or set HEADSNET_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
