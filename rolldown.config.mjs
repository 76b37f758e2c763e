// Bundles built from tsc's output (npm run build:bundle), for start-up time: Node's ESM loader
// spends ~25 ms of every run resolving and linking the CLI's and yargs' ~70 small modules one at a
// time, and each compile worker ~10 ms more booting the ESM loader for its own modules.
// - dist/src/cli.bundle.js: the command line. What a command needs at start-up is one chunk; the
//   trainer and the viewer (which load TensorFlow.js and three.js) stay in chunks loaded when
//   they run.
// - dist/src/worker.bundle.cjs: the compile worker, as one CommonJS file (Piscina requires it).
// Both sit beside the modules they stand for, and code that finds files does so from the package
// root, so paths hold either way.

// Two of yargs' dependencies, patched as they are bundled. Each patch fails the build if its text
// is gone (a new version): look again then.
const patches = [
  {
    // yargs looks for its own package.json (for a default --version) from the folder its shim sits
    // in, cut at "node_modules". Bundled, the shim sits in dist/src, so it fell back to the
    // current directory and listed every directory from there up to / at each start: slow from a
    // folder of thousands of heads, and none of its business. Point it at this package's root
    // (the chunk is dist/src/cli.bundle.*.js: two folders up).
    file: /\/node_modules\/yargs\/lib\/platform-shims\/esm\.mjs$/,
    from: "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));",
    to: 'const mainFilename = fileURLToPath(new URL("../../", import.meta.url));',
  },
  {
    // string-width (help text) makes an Intl.Segmenter when it loads: ICU's data, 10 ms of every
    // start. Make it on first use, which only help text with non-ASCII characters reaches.
    file: /\/node_modules\/(.*\/)?string-width\/index\.js$/,
    from: "const segmenter = new Intl.Segmenter();",
    to: "let madeSegmenter; const segmenter = { segment: (text) => (madeSegmenter ??= new Intl.Segmenter()).segment(text) };",
  },
];
const patchDependencies = {
  name: "patch-dependencies",
  transform(code, id) {
    const patch = patches.find((p) => p.file.test(id));
    if (!patch) return null;
    if (!code.includes(patch.from)) this.error(`${id} changed: rolldown.config.mjs patches text that is no longer there`);
    // On one line, as the text it replaces: the positions after it, and so the source map, hold.
    return { code: code.replace(patch.from, patch.to), map: null };
  },
};

const lazy = /\/dist\/src\/(train|view)\/(?!(cli|defaults|raster)\.js$)/;

export default [
  {
    input: { "cli.bundle": "dist/src/cli.js" },
    platform: "node",
    external: [/^node:/, "piscina", /^@tensorflow\//, /^three($|\/)/],
    plugins: [patchDependencies],
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
