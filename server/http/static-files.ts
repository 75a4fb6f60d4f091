/**
 * Serves the built web client. Unknown paths without a file extension get index.html,
 * so the app's own routes survive a reload.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export function createStaticHandler(rootDir: string) {
  const root = normalize(rootDir + sep);

  async function fileAt(path: string): Promise<string | null> {
    const resolved = normalize(join(root, path));
    if (!resolved.startsWith(root)) return null;
    try {
      return (await stat(resolved)).isFile() ? resolved : null;
    } catch {
      return null;
    }
  }

  /** Answers the request when it names a client file; returns false otherwise. */
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return false;
    }
    let file = pathname === '/' ? null : await fileAt(pathname);
    const isAsset = pathname.startsWith('/assets/');
    if (!file && extname(pathname) === '') file = await fileAt('index.html');
    if (!file) return false;
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      // Vite fingerprints assets: cache them forever; always revalidate the HTML shell.
      'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    // pipeline: a read error (file replaced by a rebuild, EMFILE) ends this response, not the process.
    pipeline(createReadStream(file), res, () => undefined);
    return true;
  };
}
