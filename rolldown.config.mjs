// Bundles built from tsc's output (npm run build:bundle), for start-up time: Node's ESM loader
// spends ~25 ms of every run resolving and linking the CLI's and yargs' ~70 small modules one at a
// time, and each compile worker ~10 ms more booting the ESM loader for its own modules.
// - dist/src/cli.bundle.js: the command line. What a command needs at start-up is one chunk; the
//   trainer and the viewer (which load TensorFlow.js and three.js) stay in chunks loaded when
//   they run.
// - dist/src/worker.bundle.cjs: the compile worker, as one CommonJS file (Piscina requires it).
// Both sit beside the modules they stand for, and code that finds files does so from the package
// root, so paths hold either way.
// yargs looks for its own package.json (for a default --version) from the folder its shim sits
// in, cut at "node_modules". Bundled, the shim sits in dist/src, so it fell back to the current
// directory and listed every directory from there up to / at each start: slow from a folder of
// thousands of heads, and none of its business. Point it at this package's root.
const YARGS_SHIM = /\/node_modules\/yargs\/lib\/platform-shims\/esm\.mjs$/;
const YARGS_MAIN = "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));";
const yargsFromPackageRoot = {
  name: "yargs-from-package-root",
  transform(code, id) {
    if (!YARGS_SHIM.test(id)) return null;
    if (!code.includes(YARGS_MAIN)) this.error(`${id}: yargs' shim changed; update rolldown.config.mjs`);
    // The chunk is dist/src/cli.bundle.*.js: the package root is two folders up.
    return code.replace(YARGS_MAIN, 'const mainFilename = fileURLToPath(new URL("../../", import.meta.url));');
  },
};

const lazy = /\/dist\/src\/(train|view)\/(?!(cli|defaults|raster)\.js$)/;

export default [
  {
    input: { "cli.bundle": "dist/src/cli.js" },
    platform: "node",
    external: [/^node:/, "piscina", /^@tensorflow\//, /^three($|\/)/],
    plugins: [yargsFromPackageRoot],
    output: {
      dir: "dist/src",
      format: "esm",
      entryFileNames: "[name].js",
      chunkFileNames: "cli.bundle.[name].js",
      sourcemap: true,
      codeSplitting: { groups: [{ name: "core", test: (id) => !lazy.test(id) }] },
    },
  },
  {
    input: { "worker.bundle": "dist/src/compile/worker.js" },
    platform: "node",
    external: [/^node:/],
    // Named exports: Piscina calls the module's `default`.
    output: { dir: "dist/src", format: "cjs", exports: "named", entryFileNames: "[name].cjs", sourcemap: true },
  },
];
