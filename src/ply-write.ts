// A general PLY writer: any element/property layout, ascii or binary (either byte order).
//
// Used by the tests to write one mesh in many layouts, and by synth.ts to write the built-in
// corpus. Self-contained on purpose (no imports from the rest of src/).
//
// Conversions follow a C cast from double:
//  - float/float32: Math.fround (binary) or String(Math.fround(v)) (ascii: the shortest decimal
//    that reads back, through strtod and a narrowing to float, as the same float32; -0 is "-0");
//  - double/float64: the value itself, String(v) in ascii;
//  - integer types: truncated toward zero; NaN, ±Infinity and values whose truncation is out of
//    the type's range throw (a C cast would be undefined there; nothing ever wraps).
// JS exponent forms such as `1e-7` or `1.5e+21` are written as String() gives them; they are
// valid strtod input. NaN/±Infinity in float columns are written as `NaN`/`Infinity`, which
// strtod also accepts.

export type PlyFormat = 'ascii' | 'binary_little_endian' | 'binary_big_endian';
/** char uchar short ushort int uint float double, or int8 uint8 int16 uint16 int32 uint32 float32 float64. */
export type PlyScalarType = string;
export interface PlyScalarColumn {
  name: string;
  type: PlyScalarType;
  data: ArrayLike<number>;
}
export interface PlyListColumn {
  name: string;
  countType: PlyScalarType;
  itemType: PlyScalarType;
  /**
   * Either one array per row, or a flat `items` array with `offsets`: row r is
   * items[offsets[r] .. offsets[r+1]). `offsets` may have count+1 entries (CSR) or count
   * entries (row starts only; the last row then ends at items.length).
   */
  data: ArrayLike<ArrayLike<number>> | { offsets: ArrayLike<number>; items: ArrayLike<number> };
}
export interface PlyElementSpec {
  name: string;
  count: number;
  properties: (PlyScalarColumn | PlyListColumn)[];
}
export interface PlyWriteOptions {
  format: PlyFormat;
  comments?: string[];
  elements: PlyElementSpec[];
  /** Line ending of header lines (and of ascii body lines). Default '\n'. */
  lineEnding?: '\n' | '\r\n';
}

// ---------------------------------------------------------------------------------------------
// Scalar types

const K_I8 = 0, K_U8 = 1, K_I16 = 2, K_U16 = 3, K_I32 = 4, K_U32 = 5, K_F32 = 6, K_F64 = 7;

interface TypeInfo { kind: number; size: number; min: number; max: number; float: boolean; }

const TYPE_INFO: Record<string, TypeInfo> = Object.create(null);
{
  const add = (names: string[], kind: number, size: number, min: number, max: number, float: boolean): void => {
    for (const n of names) TYPE_INFO[n] = { kind, size, min, max, float };
  };
  add(['char', 'int8'], K_I8, 1, -128, 127, false);
  add(['uchar', 'uint8'], K_U8, 1, 0, 255, false);
  add(['short', 'int16'], K_I16, 2, -32768, 32767, false);
  add(['ushort', 'uint16'], K_U16, 2, 0, 65535, false);
  add(['int', 'int32'], K_I32, 4, -2147483648, 2147483647, false);
  add(['uint', 'uint32'], K_U32, 4, 0, 4294967295, false);
  add(['float', 'float32'], K_F32, 4, -Infinity, Infinity, true);
  add(['double', 'float64'], K_F64, 8, -Infinity, Infinity, true);
}

function typeInfo(type: string, where: string): TypeInfo {
  const t = TYPE_INFO[type];
  if (t === undefined) {
    throw new Error(`writePly: unknown PLY scalar type '${type}' for ${where}`);
  }
  return t;
}

function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || name.length === 0 || /[\s]/.test(name)) {
    throw new Error(`writePly: invalid ${what} name ${JSON.stringify(name)} (must be non-empty, no whitespace)`);
  }
}

function rangeError(v: number, type: string, where: string): Error {
  return new Error(
    `writePly: value ${v} does not fit PLY type '${type}' (${where})` +
      (Number.isFinite(v) ? '' : '; integer properties need finite values'),
  );
}

// ---------------------------------------------------------------------------------------------
// Normalised plan

interface ScalarPlan {
  list: false;
  name: string;
  type: string;
  t: TypeInfo;
  data: ArrayLike<number>;
}
interface ListPlan {
  list: true;
  name: string;
  countType: string;
  itemType: string;
  ct: TypeInfo;
  it: TypeInfo;
  /** Per-row arrays, or null when flat. */
  rows: ArrayLike<ArrayLike<number>> | null;
  offsets: ArrayLike<number> | null;
  items: ArrayLike<number> | null;
}
type PropPlan = ScalarPlan | ListPlan;
interface ElementPlan { name: string; count: number; props: PropPlan[]; hasList: boolean; }

function isListColumn(p: PlyScalarColumn | PlyListColumn): p is PlyListColumn {
  return (p as PlyListColumn).countType !== undefined || (p as PlyListColumn).itemType !== undefined;
}

function plan(options: PlyWriteOptions): ElementPlan[] {
  const out: ElementPlan[] = [];
  const seenElements = new Set<string>();
  for (const el of options.elements) {
    checkName(el.name, 'element');
    if (seenElements.has(el.name)) throw new Error(`writePly: duplicate element '${el.name}'`);
    seenElements.add(el.name);
    const count = el.count;
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new Error(`writePly: element '${el.name}' has invalid count ${count}`);
    }
    const props: PropPlan[] = [];
    const seenProps = new Set<string>();
    let hasList = false;
    for (const p of el.properties) {
      checkName(p.name, `property (element '${el.name}')`);
      if (seenProps.has(p.name)) throw new Error(`writePly: duplicate property '${el.name}.${p.name}'`);
      seenProps.add(p.name);
      const where = `${el.name}.${p.name}`;
      if (isListColumn(p)) {
        hasList = true;
        const ct = typeInfo(p.countType, `${where} (list count)`);
        const it = typeInfo(p.itemType, `${where} (list item)`);
        if (ct.float) throw new Error(`writePly: list count type of ${where} must be an integer type, got '${p.countType}'`);
        const d = p.data as { offsets?: ArrayLike<number>; items?: ArrayLike<number> };
        if (d !== null && typeof d === 'object' && d.offsets !== undefined && d.items !== undefined) {
          const offsets = d.offsets;
          if (offsets.length < count) {
            throw new Error(`writePly: ${where}: offsets has ${offsets.length} entries, element count is ${count}`);
          }
          // Validate monotonic offsets inside items.
          const n = Math.min(offsets.length, count + 1);
          let prev = count > 0 ? offsets[0] : 0;
          for (let r = 0; r < n; r++) {
            const o = offsets[r];
            if (!Number.isInteger(o) || o < 0 || o < prev || o > d.items.length) {
              throw new Error(`writePly: ${where}: bad offsets[${r}] = ${o} (items.length ${d.items.length})`);
            }
            prev = o;
          }
          props.push({ list: true, name: p.name, countType: p.countType, itemType: p.itemType, ct, it, rows: null, offsets, items: d.items });
        } else {
          const rows = p.data as ArrayLike<ArrayLike<number>>;
          if (rows == null || typeof rows.length !== 'number' || rows.length < count) {
            throw new Error(`writePly: ${where}: list data has ${rows?.length} rows, element count is ${count}`);
          }
          props.push({ list: true, name: p.name, countType: p.countType, itemType: p.itemType, ct, it, rows, offsets: null, items: null });
        }
      } else {
        const t = typeInfo(p.type, where);
        if (p.data == null || typeof p.data.length !== 'number' || p.data.length < count) {
          throw new Error(`writePly: ${where}: data has ${p.data?.length} values, element count is ${count}`);
        }
        props.push({ list: false, name: p.name, type: p.type, t, data: p.data });
      }
    }
    out.push({ name: el.name, count, props, hasList });
  }
  return out;
}

function listRowLength(p: ListPlan, r: number): number {
  if (p.rows !== null) return p.rows[r].length;
  const offsets = p.offsets!;
  const end = r + 1 < offsets.length ? offsets[r + 1] : p.items!.length;
  return end - offsets[r];
}

function headerText(options: PlyWriteOptions, elements: ElementPlan[]): string {
  const nl = options.lineEnding ?? '\n';
  if (nl !== '\n' && nl !== '\r\n') throw new Error(`writePly: invalid lineEnding ${JSON.stringify(nl)}`);
  const format = options.format;
  if (format !== 'ascii' && format !== 'binary_little_endian' && format !== 'binary_big_endian') {
    throw new Error(`writePly: invalid format ${JSON.stringify(format)}`);
  }
  const lines: string[] = ['ply', `format ${format} 1.0`];
  for (const c of options.comments ?? []) {
    if (/[\r\n]/.test(c)) throw new Error(`writePly: comment contains a line break: ${JSON.stringify(c)}`);
    lines.push(c.length > 0 ? `comment ${c}` : 'comment');
  }
  for (const el of elements) {
    lines.push(`element ${el.name} ${el.count}`);
    for (const p of el.props) {
      lines.push(p.list ? `property list ${p.countType} ${p.itemType} ${p.name}` : `property ${p.type} ${p.name}`);
    }
  }
  lines.push('end_header');
  return lines.join(nl) + nl;
}

// ---------------------------------------------------------------------------------------------
// Binary

/** Write one value at `off`; returns the next offset, or -1 if an integer value does not fit. */
function putValue(dv: DataView, off: number, t: TypeInfo, v: number, le: boolean): number {
  switch (t.kind) {
    case K_F32: dv.setFloat32(off, v, le); return off + 4;
    case K_F64: dv.setFloat64(off, v, le); return off + 8;
  }
  const x = Math.trunc(v);
  if (!(x >= t.min && x <= t.max)) return -1;
  switch (t.kind) {
    case K_I8: dv.setInt8(off, x); break;
    case K_U8: dv.setUint8(off, x); break;
    case K_I16: dv.setInt16(off, x, le); break;
    case K_U16: dv.setUint16(off, x, le); break;
    case K_I32: dv.setInt32(off, x, le); break;
    default: dv.setUint32(off, x, le); break;
  }
  return off + t.size;
}

/** Column-wise write of a scalar column of a fixed-size element (tight per-type loops). */
function putColumn(
  dv: DataView, start: number, stride: number, count: number,
  p: ScalarPlan, le: boolean, elName: string,
): void {
  const data = p.data;
  const t = p.t;
  let off = start;
  switch (t.kind) {
    case K_F32:
      for (let r = 0; r < count; r++, off += stride) dv.setFloat32(off, data[r], le);
      return;
    case K_F64:
      for (let r = 0; r < count; r++, off += stride) dv.setFloat64(off, data[r], le);
      return;
  }
  const min = t.min, max = t.max;
  const bad = (r: number): Error => rangeError(data[r], p.type, `${elName}[${r}].${p.name}`);
  switch (t.kind) {
    case K_I8:
      for (let r = 0; r < count; r++, off += stride) {
        const x = Math.trunc(data[r]);
        if (!(x >= min && x <= max)) throw bad(r);
        dv.setInt8(off, x);
      }
      return;
    case K_U8:
      for (let r = 0; r < count; r++, off += stride) {
        const x = Math.trunc(data[r]);
        if (!(x >= min && x <= max)) throw bad(r);
        dv.setUint8(off, x);
      }
      return;
    case K_I16:
      for (let r = 0; r < count; r++, off += stride) {
        const x = Math.trunc(data[r]);
        if (!(x >= min && x <= max)) throw bad(r);
        dv.setInt16(off, x, le);
      }
      return;
    case K_U16:
      for (let r = 0; r < count; r++, off += stride) {
        const x = Math.trunc(data[r]);
        if (!(x >= min && x <= max)) throw bad(r);
        dv.setUint16(off, x, le);
      }
      return;
    case K_I32:
      for (let r = 0; r < count; r++, off += stride) {
        const x = Math.trunc(data[r]);
        if (!(x >= min && x <= max)) throw bad(r);
        dv.setInt32(off, x, le);
      }
      return;
    default:
      for (let r = 0; r < count; r++, off += stride) {
        const x = Math.trunc(data[r]);
        if (!(x >= min && x <= max)) throw bad(r);
        dv.setUint32(off, x, le);
      }
      return;
  }
}

function elementByteSize(el: ElementPlan): number {
  if (!el.hasList) {
    let row = 0;
    for (const p of el.props) row += (p as ScalarPlan).t.size;
    return row * el.count;
  }
  let total = 0;
  for (const p of el.props) {
    if (!p.list) {
      total += p.t.size * el.count;
    } else if (p.rows === null) {
      const offsets = p.offsets!;
      const end = el.count < offsets.length ? offsets[el.count] : p.items!.length;
      const nItems = el.count > 0 ? end - offsets[0] : 0;
      total += p.ct.size * el.count + p.it.size * nItems;
    } else {
      let nItems = 0;
      for (let r = 0; r < el.count; r++) nItems += p.rows[r].length;
      total += p.ct.size * el.count + p.it.size * nItems;
    }
  }
  return total;
}

function writeBinary(header: Uint8Array, elements: ElementPlan[], le: boolean): Uint8Array {
  let size = header.length;
  for (const el of elements) size += elementByteSize(el);
  const buf = new ArrayBuffer(size);
  const bytes = new Uint8Array(buf);
  bytes.set(header, 0);
  const dv = new DataView(buf);
  let off = header.length;
  for (const el of elements) {
    if (!el.hasList) {
      let stride = 0;
      for (const p of el.props) stride += (p as ScalarPlan).t.size;
      let col = 0;
      for (const p of el.props) {
        const sp = p as ScalarPlan;
        putColumn(dv, off + col, stride, el.count, sp, le, el.name);
        col += sp.t.size;
      }
      off += stride * el.count;
      continue;
    }
    const props = el.props;
    const np = props.length;
    for (let r = 0; r < el.count; r++) {
      for (let k = 0; k < np; k++) {
        const p = props[k];
        if (!p.list) {
          const v = p.data[r];
          const o = putValue(dv, off, p.t, v, le);
          if (o < 0) throw rangeError(v, p.type, `${el.name}[${r}].${p.name}`);
          off = o;
          continue;
        }
        const ct = p.ct, it = p.it;
        const row: ArrayLike<number> = p.rows !== null ? p.rows[r] : p.items!;
        const a = p.rows !== null ? 0 : p.offsets![r];
        const n = listRowLength(p, r);
        let o = putValue(dv, off, ct, n, le);
        if (o < 0) throw rangeError(n, p.countType, `${el.name}[${r}].${p.name} (list length)`);
        off = o;
        if (it.kind === K_U32) {
          // Fast path for the usual vertex_indices layout.
          for (let i = 0; i < n; i++) {
            const x = Math.trunc(row[a + i]);
            if (!(x >= 0 && x <= 4294967295)) throw rangeError(row[a + i], p.itemType, `${el.name}[${r}].${p.name}[${i}]`);
            dv.setUint32(off, x, le);
            off += 4;
          }
        } else {
          for (let i = 0; i < n; i++) {
            o = putValue(dv, off, it, row[a + i], le);
            if (o < 0) throw rangeError(row[a + i], p.itemType, `${el.name}[${r}].${p.name}[${i}]`);
            off = o;
          }
        }
      }
    }
  }
  if (off !== size) throw new Error(`writePly: internal size mismatch (${off} != ${size})`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// ASCII

/** Format one value; null if an integer value does not fit. */
function fmtValue(t: TypeInfo, v: number): string | null {
  if (t.float) {
    const f = t.kind === K_F32 ? Math.fround(v) : v;
    return f === 0 && 1 / f < 0 ? '-0' : String(f); // String(-0) is "0"
  }
  const x = Math.trunc(v);
  if (!(x >= t.min && x <= t.max)) return null;
  return String(x === 0 ? 0 : x); // no "-0"
}

function writeAscii(header: string, elements: ElementPlan[], nl: string): Uint8Array {
  const chunks: string[] = [header];
  for (const el of elements) {
    const props = el.props;
    const lines: string[] = new Array(el.count);
    for (let r = 0; r < el.count; r++) {
      let line = '';
      for (let k = 0; k < props.length; k++) {
        const p = props[k];
        if (k > 0) line += ' ';
        if (!p.list) {
          const s = fmtValue(p.t, p.data[r]);
          if (s === null) throw rangeError(p.data[r], p.type, `${el.name}[${r}].${p.name}`);
          line += s;
          continue;
        }
        const n = listRowLength(p, r);
        const cs = fmtValue(p.ct, n);
        if (cs === null) throw rangeError(n, p.countType, `${el.name}[${r}].${p.name} (list length)`);
        line += cs;
        const row: ArrayLike<number> = p.rows !== null ? p.rows[r] : p.items!;
        const a = p.rows !== null ? 0 : p.offsets![r];
        for (let i = 0; i < n; i++) {
          const s = fmtValue(p.it, row[a + i]);
          if (s === null) throw rangeError(row[a + i], p.itemType, `${el.name}[${r}].${p.name}[${i}]`);
          line += ' ' + s;
        }
      }
      lines[r] = line;
    }
    if (el.count > 0) chunks.push(lines.join(nl) + nl);
  }
  return new TextEncoder().encode(chunks.join(''));
}

// ---------------------------------------------------------------------------------------------

/** Serialise the given elements as a PLY file. Throws on invalid layouts or values. */
export function writePly(options: PlyWriteOptions): Uint8Array {
  const elements = plan(options);
  const header = headerText(options, elements);
  if (options.format === 'ascii') return writeAscii(header, elements, options.lineEnding ?? '\n');
  return writeBinary(new TextEncoder().encode(header), elements, options.format === 'binary_little_endian');
}
