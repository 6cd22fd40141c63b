// Serves one file with HTTP Range support, so <video> and <audio> can seek (the parser and the types
// are engine/common/http-media.ts, shared with Electron's protocols). `?download=1` adds
// Content-Disposition: attachment, so a link saves the file under its own name.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentType, parseRange } from '../common/http-media.js';

export async function serveFile(req: IncomingMessage, res: ServerResponse, file: string, extraHeaders: Record<string, string> = {}): Promise<void> {
  const st = await stat(file);
  const size = st.size;
  const common = { 'Content-Type': contentType(file), 'Accept-Ranges': 'bytes', 'Last-Modified': st.mtime.toUTCString(), ...extraHeaders };
  const r = parseRange(req.headers.range, size);
  if (r.kind === 'bad') {
    res.writeHead(416, { ...common, 'Content-Range': `bytes */${size}`, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: 'bad-input', message: `The requested byte range (${req.headers.range}) is outside this ${size}-byte file or malformed.` }));
    return;
  }
  const [status, start, end] = r.kind === 'range' ? [206, r.start, r.end] : [200, 0, size - 1];
  res.writeHead(status, { ...common, 'Content-Length': String(Math.max(0, end - start + 1)), ...(r.kind === 'range' ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}) });
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file, { start, end });
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
