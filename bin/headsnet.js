#!/usr/bin/env node
// The headsnet command: a launcher. Everything is in dist/src/cli.bundle.js (src/cli.ts).
import { main, unexpected } from "../dist/src/cli.bundle.js";

const io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
// Errors that escape main (thrown from a callback deep in a library): one line, never a stack
// trace unless HEADSNET_DEBUG is set.
process.on("uncaughtException", (e) => process.exit(unexpected(io, e)));
process.on("unhandledRejection", (e) => process.exit(unexpected(io, e)));
try {
  process.exitCode = await main(process.argv.slice(2), io);
} catch (e) {
  process.exitCode = unexpected(io, e);
}
