// Where the package lives (this file runs from src/ under the tests and from dist/src/ when built).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../" : "../../", import.meta.url));

export const VERSION: string = JSON.parse(readFileSync(PACKAGE_ROOT + "package.json", "utf8")).version;
