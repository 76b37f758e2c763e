// The header parser: every way a header can be wrong gets a message naming the file and the fault.

import { describe, it, expect } from "vitest";
import { parseHeader, vertexLayout } from "../src/ply-header.js";
import { HeadsnetError } from "../src/errors.js";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const header = (lines: string[], eol = "\n") => bytes(lines.join(eol) + eol);
const BLENDER = ["ply", "format binary_little_endian 1.0", "element vertex 3", "property float x", "property float y", "property float z", "end_header"];

function failure(input: Uint8Array): HeadsnetError {
  try {
    vertexLayout(parseHeader(input, "m.ply"), "m.ply");
  } catch (e) {
    if (e instanceof HeadsnetError) return e;
    throw e;
  }
  throw new Error("expected a HeadsnetError");
}

describe("PLY header", () => {
  it("parses Blender's layout, CRLF line endings and comments", () => {
    for (const eol of ["\n", "\r\n"]) {
      const h = parseHeader(header([...BLENDER.slice(0, 2), "comment made in Blender", "obj_info x", ...BLENDER.slice(2)], eol), "m.ply");
      expect(h.format).toBe("binary_little_endian");
      expect(h.comments).toEqual(["made in Blender", "x"]);
      expect(h.elements[0]).toMatchObject({ name: "vertex", count: 3, stride: 12 });
      expect(h.bodyOffset).toBe(header([...BLENDER.slice(0, 2), "comment made in Blender", "obj_info x", ...BLENDER.slice(2)], eol).length);
    }
  });

  it("accepts property name aliases for normals and colours", () => {
    const layout = vertexLayout(parseHeader(header([...BLENDER.slice(0, 6), "property double normal_x", "property double normal_y", "property double normal_z",
      "property uchar diffuse_red", "property uchar diffuse_green", "property uchar diffuse_blue", "end_header"]), "m.ply"), "m.ply");
    expect(layout.hasNormals).toBe(true);
    expect(layout.hasColors).toBe(true);
  });

  it("rejects what is not a PLY header, naming the file and the fault", () => {
    expect(failure(bytes("")).message).toBe("m.ply: the file is empty; expected a PLY file starting with \"ply\"");
    expect(failure(bytes("solid cube\nfacet normal 0 0 1\n")).message).toBe("m.ply: not a PLY file: expected \"ply\" on the first line, found \"solid cube\"");
    expect(failure(header(["ply", "format binary_middle_endian 1.0", "end_header"])).message).toMatch(/m\.ply: bad PLY header \(line 2\): unknown format/);
    expect(failure(header(["ply", "format ascii 2.0", "end_header"])).message).toMatch(/\(line 2\): unsupported PLY version 2\.0/);
    expect(failure(bytes("ply\nformat ascii 1.0\nelement vertex 1\n")).message).toMatch(/no end_header line before the end of the file/);
    expect(failure(header(["ply", "element vertex 1", "property float x", "end_header"])).message).toMatch(/no "format" line/);
    expect(failure(header(["ply", "format ascii 1.0", "element vertex -4", "end_header"])).message).toMatch(/\(line 3\): expected "element NAME COUNT"/);
    expect(failure(header(["ply", "format ascii 1.0", "element vertex 1", "property float128 x", "end_header"])).message).toMatch(/\(line 4\): expected "property TYPE NAME"/);
    expect(failure(header(["ply", "format ascii 1.0", "element face 1", "property list float int v", "end_header"])).message).toMatch(/list count must have an integer type/);
    expect(failure(header(["ply", "format ascii 1.0", "element face 0", "end_header"])).message).toBe('m.ply: the header declares no "vertex" element');
    expect(failure(header(["ply", "format ascii 1.0", "element vertex 1", "property float x", "property float y", "end_header"])).message)
      .toBe("m.ply: the vertex element has no z property; positions are required");
    expect(failure(header([...BLENDER.slice(0, 6), "property float nx", "end_header"])).message).toMatch(/only some of nx, ny, nz/);
    expect(failure(header([...BLENDER.slice(0, 6), "property int red", "property int green", "property int blue", "end_header"])).message).toMatch(/colour property "red" is int/);
    expect(failure(header(["ply", "format ascii 1.0", "bogus line", "end_header"])).message).toMatch(/\(line 3\): unknown header line "bogus line"/);
  });

  it("gives up on a header that never ends within 1 MiB", () => {
    const big = new Uint8Array((1 << 20) + 100).fill(0x20);
    big.set(bytes("ply\nformat ascii 1.0\ncomment "));
    expect(failure(big).message).toMatch(/no end_header line in the first 1048576 bytes/);
  });
});
