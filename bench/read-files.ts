// A process that reads files and does nothing else: node dist/bench/read-files.js LIST READERS.
// bench/targets.ts times it as it times the compile targets (a child process, Node's start-up
// included), for the floor a tool that reads the files can reach.

import { readFileSync } from "node:fs";
import { readAllAtOnce } from "./lib/read.js";

const [list, readers = "1"] = process.argv.slice(2);
if (!list) {
  process.stderr.write("usage: node dist/bench/read-files.js LIST [READERS]\n");
  process.exit(2);
}
await readAllAtOnce(readFileSync(list, "utf8").split("\n").filter(Boolean), Number(readers));
