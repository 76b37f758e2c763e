// Reading a whole input file the way the I/O floors do: one large read into a reused buffer.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";

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
