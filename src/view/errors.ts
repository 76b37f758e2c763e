// What `headsnet view` and `headsnet render` say about inputs they cannot show: what happened,
// which file, and what to pass instead.

import { HeadsnetError } from "../errors.js";

export const viewErrors = {
  notFound: (path: string) =>
    new HeadsnetError("E_INPUT_MISSING", `${path}: not found; pass a .ply file, a compiled dataset directory (with manifest.json) or a trained model directory (with model.json)`, { file: path }),
  unknownKind: (path: string, why: string) =>
    new HeadsnetError("E_USAGE", `${path}: ${why}; pass a .ply file, a compiled dataset directory (with manifest.json) or a trained model directory (with model.json)`, { file: path }),
  read: (path: string, cause: string) =>
    new HeadsnetError("E_READ", `${path}: cannot read the file: ${cause}`, { file: path }),
  manifest: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}`, { file: path }),
  dataFile: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}; run 'headsnet verify' on the dataset, or compile it again`, { file: path }),
  noModel: (dir: string, selector: string, hint: string) =>
    new HeadsnetError("E_USAGE", `${dir}: no model ${JSON.stringify(selector)} in the manifest (pass a model's path or its id${hint})`, { file: dir }),
  emptyDataset: (dir: string) =>
    new HeadsnetError("E_MANIFEST", `${dir}: the manifest lists no compiled models; there is nothing to show`, { file: dir }),
  modelJson: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: not a TensorFlow.js layers model: ${what} (expected model.json with modelTopology and weightsManifest, as tf.LayersModel.save writes)`, { file: path }),
  modelWeights: (path: string, what: string) =>
    new HeadsnetError("E_READ", `${path}: ${what}`, { file: path }),
  modelShape: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}`, { file: path }),
  icosphere: (dir: string, source: string, cause: string) =>
    new HeadsnetError("E_ICOSPHERE", `${dir}: cannot load the icosphere the dataset was compiled with (${source}): ${cause}; pass --icosphere with the same level or table`, { file: dir }),
  usage: (what: string) => new HeadsnetError("E_USAGE", what),
};
