// Reading a whole input file the way the I/O floors do: one large read into a reused buffer.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";

/** Read all of `path` into `buffer` (grown to at least `minBytes` and the file's size); returns the buffer in use. */
export function readWhole<B extends Buffer>(path: string, buffer: B, minBytes = 0): B {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (buffer.length < Math.max(size, minBytes)) buffer = Buffer.allocUnsafeSlow(Math.max(size, minBytes)) as B;
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buffer, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/** Read every file once with `readers` reads at once (whole files, a reused buffer per reader). */
export async function readAllAtOnce(files: string[], readers: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: readers }, async () => {
    let buf = Buffer.allocUnsafeSlow(8 << 20);
    while (next < files.length) {
      const handle = await open(files[next++], "r");
      try {
        const { size } = await handle.stat();
        if (buf.length < size) buf = Buffer.allocUnsafeSlow(size);
        for (let at = 0; at < size;) {
          const { bytesRead } = await handle.read(buf, at, size - at, at);
          if (bytesRead === 0) break;
          at += bytesRead;
        }
      } finally {
        await handle.close();
      }
    }
  }));
}
