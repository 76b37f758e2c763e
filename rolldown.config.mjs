// The command line in a few modules instead of ~70 (npm run build:bundle, from tsc's output):
// Node's ESM loader spends ~25 ms of every run resolving and linking the CLI's and yargs' small
// modules one at a time. Everything a command needs at start-up goes into one chunk; the trainer
// and the viewer (which load TensorFlow.js and three.js) stay in chunks loaded when they run.
// The bundle sits beside the modules it stands for (dist/src/); code that finds files does so
// from the package root. Worker threads load their own modules (dist/src/worker.js, train/worker.js).
const lazy = /\/dist\/src\/(train|view)\/(?!(cli|defaults|raster)\.js$)/;

export default {
  input: { "cli.bundle": "dist/src/cli.js" },
  platform: "node",
  external: [/^node:/, "piscina", /^@tensorflow\//, /^three($|\/)/],
  output: {
    dir: "dist/src",
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "cli.bundle.[name].js",
    sourcemap: true,
    codeSplitting: { groups: [{ name: "core", test: (id) => !lazy.test(id) }] },
  },
};
