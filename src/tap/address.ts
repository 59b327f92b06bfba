/** Where the tap listens or connects: `tcp:HOST:PORT` or `unix:PATH`. */
export type TapAddress =
  { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses an address as `vmstate tap` takes it; undefined with the reason when it is not one. */
export function parseTapAddress(text: string): TapAddress | string {
  const unix = /^unix:(.+)$/.exec(text);
  if (unix) return { kind: 'unix', path: unix[1] };
  const tcp = /^tcp:(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port > 65535) return `port ${port} is out of range`;
    return { kind: 'tcp', host: tcp[1].replace(/^\[|\]$/g, ''), port };
  }
  return `'${text}' is not tcp:HOST:PORT or unix:PATH`;
}

export function formatTapAddress(a: TapAddress): string {
  return a.kind === 'unix'
    ? `unix:${a.path}`
    : `tcp:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
