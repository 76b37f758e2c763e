// `headsnet view` and `headsnet render`: thin wrappers over startViewServer() and render().

import type { Argv } from "yargs";
import { HeadsnetError } from "../errors.js";
import { finish, plural, displayPath, withCommonOptions, parseColor, type Io } from "../cli-common.js";
import type { RenderSummary } from "./render.js";
import { VIEW_NAMES, COLOR_MODES } from "./raster.js";

const inputDescription = "a .ply file, a compiled dataset directory (manifest.json) or a trained model directory (model.json)";


function commonOptions<T>(y: Argv<T>) {
  return y
    .option("view", { choices: VIEW_NAMES, default: "three-quarter" as const, describe: "camera: front, side (from +X) or three-quarter; heads are Z up, facing -Y" })
    .option("color", { choices: COLOR_MODES, default: "rgb" as const, describe: "rgb: the vertex colours; index: each point's icosphere vertex (its direction, one shade per vertex)" })
    .option("model", { type: "string", describe: "dataset: the model to show, by its path in the manifest or its id (default: the first)" })
    .option("id", { type: "number", describe: "trained model: the id to generate (default: the first training head's id, or 0.5)" })
    .option("data", { type: "string", describe: "trained model: the dataset it was trained on, to show the training head with the nearest id" })
    .option("icosphere", { type: "string", describe: "PLY input: icosphere for the index colours: level 0-9 (default 5), blender (alias reference: the reference's table, built in) or a table file; a model: overrides what its dataset says" })
    .option("level", { type: "number", describe: "trained direction/fourier model: generate its heads on an icosphere of this level, as a mesh [default: 5]" })
    .option("default-color", { type: "string", describe: "PLY input: R,G,B (0-1 each) for a file without colours, as compile takes it [default: white]" })
    .option("min-opacity", { type: "number", describe: "PLY input, 3D Gaussian splats: leave out splats less opaque than this (0-1), as compile does" });
}

function colorOf(text: string | undefined): [number, number, number] | undefined {
  return text === undefined ? undefined : parseColor(text);
}

function renderText(s: RenderSummary): string {
  const panels = s.panels.map((p) => `${p.label}: ${plural(p.points, "point")}${p.faces ? `, ${plural(p.faces, "triangle")}` : ""}`);
  return `wrote ${displayPath(s.file)} (${s.width}x${s.height}, ${s.view}, ${plural(s.bytes, "byte")})\n${panels.map((p) => `  ${p}\n`).join("")}`;
}

export function registerViewCommands(y: Argv, io: Io, setExitCode: (c: number) => void): Argv {
  return y
    .command(
      "view <input>",
      "show a PLY head, a compiled dataset or a trained model in the browser (a local page; Ctrl-C stops it)",
      (a) => withCommonOptions(commonOptions(a
        .positional("input", { type: "string", demandOption: true, describe: inputDescription }))
        .option("port", { type: "number", default: 0, describe: "port on 127.0.0.1 (0: a free port)" }), "print only the address"),
      async (args) => {
        let server;
        try {
          const { startViewServer } = await import("./server.js");
          server = await startViewServer({
            input: args.input as string,
            port: args.port,
            view: args.view,
            color: args.color,
            model: args.model,
            id: args.id,
            data: args.data,
            icosphere: args.icosphere,
            level: args.level,
            defaultColor: colorOf(args.defaultColor),
            minOpacity: args.minOpacity,
          });
        } catch (e) {
          if (!(e instanceof HeadsnetError)) throw e;
          setExitCode(finish(io, "view", args, { error: e }));
          return;
        }
        if (args.json) io.out(JSON.stringify({ ok: true, kind: server.kind, input: args.input, url: server.url }) + "\n");
        else io.out(args.quiet ? `${server.url}\n` : `headsnet view: ${server.kind} ${args.input}\n  ${server.url}\n  (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            server!.close().then(resolve, resolve);
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
        if (!args.quiet && !args.json) io.out("headsnet view: stopped\n");
      },
    )
    .command(
      "render <input>",
      "render a PLY head, a compiled model's rows or a trained model's head to a PNG (no browser needed)",
      (a) => withCommonOptions(commonOptions(a
        .positional("input", { type: "string", demandOption: true, describe: inputDescription }))
        .option("out", { alias: "o", type: "string", demandOption: true, describe: "the PNG file to write" })
        .option("size", { type: "string", default: "800x600", describe: "WIDTHxHEIGHT in pixels (a trained model with training data shows two heads side by side)" }), "no summary"),
      async (args) => {
        const { render, parseSize } = await import("./render.js");
        let size;
        try {
          size = parseSize(args.size);
        } catch (e) {
          if (!(e instanceof HeadsnetError)) throw e;
          setExitCode(finish(io, "render", args, { error: e }));
          return;
        }
        const result = await render({
          input: args.input as string,
          out: args.out,
          ...size,
          view: args.view,
          color: args.color,
          model: args.model,
          id: args.id,
          data: args.data,
          icosphere: args.icosphere,
          level: args.level,
          defaultColor: colorOf(args.defaultColor),
          minOpacity: args.minOpacity,
        });
        setExitCode(finish(io, "render", args, result.error ? { error: result.error } : { data: { ...result.summary }, text: renderText(result.summary!) }));
      },
    ) as unknown as Argv;
}
