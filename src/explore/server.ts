/**
 * `vmstate explore --serve 127.0.0.1:PORT`: the page over HTTP on a loopback address only, plus
 * one route that reads a RAM page's bytes from the stream file on demand (`/ram/BLOCK/PAGE`).
 * Requests whose Host is not the address served are refused (no DNS rebinding).
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { inflateSync } from 'zlib';
import { UsageError } from '../errors';
import { PageKind, type PageLocation } from './ram-map';

export interface ServeTarget {
  host: string;
  port: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Parses `HOST:PORT` (`[::1]:PORT` for IPv6); anything but a loopback address is refused. */
export function parseServeAddress(s: string): ServeTarget {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  if (!m) throw new UsageError(`--serve: expected HOST:PORT, e.g. 127.0.0.1:8080 (got '${s}')`);
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (!LOOPBACK.has(host) && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
    throw new UsageError(`--serve: only a loopback address may be served (got '${host}')`);
  if (port > 65535) throw new UsageError(`--serve: port ${port} is out of range`);
  return { host, port };
}

export interface ExploreServer {
  url: string;
  close(): Promise<void>;
}

export interface ServeContent {
  page: string;
  file: string;
  pageSize: number;
  blockCount: number;
  locate: (block: number, page: number) => PageLocation | undefined;
}

/** Reads one RAM page's bytes as the destination would have them (zero fill, data, inflated). */
function pageBytes(fd: number, loc: PageLocation, pageSize: number): Buffer {
  if (loc.kind === PageKind.zero) return Buffer.alloc(pageSize, loc.fill);
  const raw = Buffer.alloc(loc.length);
  const n = fs.readSync(fd, raw, 0, loc.length, loc.offset);
  if (n !== loc.length) throw new Error(`the stream file is shorter than when it was read`);
  if (loc.kind === PageKind.data) return raw;
  if (loc.kind === PageKind.compressed) return inflateSync(raw);
  throw new Error('an XBZRLE page is a delta against earlier contents: not shown');
}

export async function startExploreServer(
  target: ServeTarget,
  content: ServeContent,
): Promise<ExploreServer> {
  const fd = fs.openSync(content.file, 'r');
  let allowedHosts = new Set<string>();
  const server = http.createServer((req, res) => {
    const send = (code: number, type: string, body: string | Buffer) => {
      res.writeHead(code, {
        'Content-Type': type,
        'Content-Length': Buffer.byteLength(body),
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    };
    if (!allowedHosts.has(req.headers.host ?? ''))
      return send(403, 'text/plain', 'wrong Host for this loopback server\n');
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
    const url = req.url ?? '/';
    if (url === '/' || url === '/index.html')
      return send(200, 'text/html; charset=utf-8', content.page);
    const m = /^\/ram\/(\d{1,6})\/(\d{1,15})$/.exec(url);
    if (!m) return send(404, 'text/plain', 'not found\n');
    const block = Number(m[1]);
    const page = Number(m[2]);
    const loc = block < content.blockCount ? content.locate(block, page) : undefined;
    if (!loc) return send(404, 'text/plain', `page ${page} of block ${block} was not sent\n`);
    try {
      return send(200, 'application/octet-stream', pageBytes(fd, loc, content.pageSize));
    } catch (e) {
      return send(409, 'text/plain', `${(e as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UsageError(`--serve ${target.host}:${target.port}: ${e.code ?? e.message}`)),
    );
    server.listen(target.port, target.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = target.host.includes(':') ? `[${target.host}]` : target.host;
  allowedHosts = new Set([`${hostPart}:${port}`, `localhost:${port}`]);
  return {
    url: `http://${hostPart}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
        fs.closeSync(fd);
      }),
  };
}
