/**
 * `vmstate explore`: the page is self-contained under a strict CSP and, in a real headless
 * Chromium (Debian's `chromium`, driven by playwright-core), a field selects its bytes at the
 * offset `--format json` gives, a byte selects its field, search and keys move the selection,
 * and nothing is fetched. `--serve` hands out RAM pages from loopback only. Skipped locally
 * only when chromium is missing and VMSTATE_REQUIRE_QEMU is unset; CI sets it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromiumRequired, haveChromium, pageSession, type Page } from './support/chromium';
import { streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';
import { fileSource } from '../src/stream/source';
import { readExploreModel } from '../src/explore/model';
import { renderExplorePage } from '../src/explore/page';
import { nestedPageLayouts, nestedStateView } from '../vmstate/x86/nested-view';
import { parseServeAddress, startExploreServer } from '../src/explore/server';
import { PageKind } from '../src/explore/ram-map';
import { VMCS12_LAYOUT, decodeVmcs12 } from '../vmstate/x86/kvm';

const ARTIFACTS = path.resolve(__dirname, 'artifacts');
const GOLDEN = path.resolve(__dirname, '..', 'streams', 'golden', '7.2');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'explore-html-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Field {
  name: string;
  offset: number;
  size: number;
  value: unknown;
}
interface Section {
  type: string;
  idstr: string;
  offset: number;
  state?: { fields: Field[] };
}

async function pageOf(
  file: string,
  name: string,
  bareStream = false,
): Promise<{ page: string; json: { sections: Section[]; ram: { blocks: unknown[] } } }> {
  const page = path.join(dir, `${name}.html`);
  const r = await runCli(['explore', file, '-o', page]);
  // A stream without a description: the catalog says what it assumed, as analyze does.
  if (bareStream) expect(r.stderr).toMatch(/^vmstate: .*: decoded by the 7\.2 device catalog/);
  else expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const json = JSON.parse((await runCli(['analyze', file])).stdout);
  return { page, json };
}

/** A field anywhere in a state (struct fields and subsections included). */
function findField(
  st: { fields: Field[]; subsections?: unknown[] },
  name: string,
): Field | undefined {
  for (const f of st.fields) {
    if (f.name === name) return f;
    const inner = (f as unknown as { fields?: Field[] }).fields
      ? findField(f as unknown as { fields: Field[] }, name)
      : undefined;
    if (inner) return inner;
  }
  for (const sub of (st.subsections ?? []) as { fields: Field[] }[]) {
    const inner = findField(sub, name);
    if (inner) return inner;
  }
  return undefined;
}

function bare(file: string): string {
  const bytes = fs.readFileSync(file);
  const eof = bytes.indexOf(Buffer.from('{"page_size"')) - 6;
  const out = path.join(dir, `bare-${path.basename(file)}`);
  fs.writeFileSync(out, bytes.subarray(0, eof + 1));
  return out;
}

describe('the page', () => {
  let html = '';
  beforeAll(async () => {
    html = fs.readFileSync(
      (await pageOf(streamPath('q35-nodefaults-paused'), 'static')).page,
      'utf8',
    );
  });

  it('is one file under a strict CSP: inline blocks by hash, no eval, nothing from elsewhere', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/
      .exec(html)![1]
      .replace(/&#39;/g, "'");
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).toMatch(/connect-src 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(html).not.toMatch(/\beval\(|new Function|<link|<img|<iframe|src=|href=|url\(|@import/);
  });

  it('holds no RAM page contents: only the map', async () => {
    // Every data page the stream sent, as --extract writes it: none is in the page, in any form.
    const file = streamPath('q35-nodefaults-paused');
    const x = path.join(dir, 'x-static');
    expect((await runCli(['analyze', file, '--extract', x])).code).toBe(0);
    const source = await fileSource(file);
    const model = await readExploreModel(source);
    await source.close();
    const names = model.ram.blockNames();
    let pages = 0;
    for (const [bi, m] of model.ram.maps().entries())
      for (let p = 0; p < m.cells.length; p++) {
        if (m.cells[p] !== PageKind.data) continue;
        const block = fs.readFileSync(path.join(x, names[bi].replace(/^\/+/, '')));
        const page = block.subarray(p * 4096, (p + 1) * 4096);
        // A run of 48 bytes from the middle of the page, base64- and hex-encoded.
        const run = page.subarray(2048, 2096);
        if (run.every((b) => b === 0)) continue;
        expect(html).not.toContain(run.toString('base64'));
        expect(html).not.toContain(run.toString('hex'));
        expect(html).not.toContain([...run].map((b) => b.toString(16).padStart(2, '0')).join(' '));
        pages++;
      }
    expect(pages).toBeGreaterThan(0);
  });

  it('--section keeps only the named sections in the page', async () => {
    const page = path.join(dir, 'cpu-only.html');
    const r = await runCli([
      'explore',
      streamPath('q35-nodefaults-paused'),
      '--section',
      'cpu*',
      '-o',
      page,
    ]);
    expect(r.code).toBe(0);
    const text = fs.readFileSync(page, 'utf8');
    const analysis = JSON.parse(
      /<script type="application\/json" id="analysis">([^<]*)<\/script>/.exec(text)![1],
    );
    expect(analysis.sections.map((s: Section) => s.idstr)).toEqual(['cpu_common', 'cpu']);
  });

  it('-o - writes the page to stdout; neither -o nor --serve, or a non-loopback address, is a usage error', async () => {
    const out = await runCli(['explore', streamPath('pc-nodefaults-paused'), '-o', '-']);
    expect(out.code).toBe(0);
    expect(out.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
    const none = await runCli(['explore', streamPath('pc-nodefaults-paused')]);
    expect(none.code).toBe(2);
    const remote = await runCli([
      'explore',
      streamPath('pc-nodefaults-paused'),
      '--serve',
      '0.0.0.0:8080',
    ]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/only a loopback address/);
    expect(() => parseServeAddress('192.168.1.2:80')).toThrow(/loopback/);
    expect(parseServeAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });
});

/** The model and page `explore --serve` makes of `file` (RAM page locations kept for the server). */
async function servedPage(file: string) {
  const source = await fileSource(file);
  const model = await readExploreModel(source, { keepPageLocations: true });
  await source.close();
  const page = renderExplorePage(model, {
    file,
    serve: true,
    views: [nestedStateView],
    pageLayouts: nestedPageLayouts(),
  });
  return { model, page };
}

describe('--serve', () => {
  it('serves the page and RAM page bytes on demand, as the extracted block holds them; refuses other Hosts', async () => {
    const file = streamPath('q35-nodefaults-paused');
    const { model, page } = await servedPage(file);
    expect(page).toMatch(/connect-src &#39;self&#39;/);
    const locate = model.ram.locator();
    const server = await startExploreServer(
      { host: '127.0.0.1', port: 0 },
      { page, file, pageSize: 4096, blockCount: model.ram.blockNames().length, locate },
    );
    try {
      const index = await fetch(server.url);
      expect(index.status).toBe(200);
      expect(await index.text()).toBe(page);
      // Every data page the stream sent, against what --extract writes for its block.
      const x = path.join(dir, 'x');
      expect((await runCli(['analyze', file, '--extract', x])).code).toBe(0);
      const names = model.ram.blockNames();
      let seen = 0;
      for (const [bi, m] of model.ram.maps().entries())
        for (let p = 0; p < m.cells.length; p++) {
          if (m.cells[p] !== PageKind.data) continue;
          const r = await fetch(`${server.url}ram/${bi}/${p}`);
          expect(r.status).toBe(200);
          const got = Buffer.from(await r.arrayBuffer());
          const block = fs.readFileSync(path.join(x, names[bi].replace(/^\/+/, '')));
          expect(got.equals(block.subarray(p * 4096, (p + 1) * 4096))).toBe(true);
          seen++;
        }
      expect(seen).toBeGreaterThan(0);
      expect((await fetch(`${server.url}ram/0/999999999`)).status).toBe(404);
      const port = new URL(server.url).port;
      const rebound = await new Promise<number>((resolve, reject) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const http = require('http') as typeof import('http');
        http
          .get(
            { host: '127.0.0.1', port, path: '/', headers: { Host: `evil.example:${port}` } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          )
          .on('error', reject);
      });
      expect(rebound).toBe(403);
    } finally {
      await server.close();
    }
  });
});

(haveChromium || chromiumRequired ? describe : describe.skip)('in headless Chromium', () => {
  const session = pageSession('explore', { width: 1600, height: 900 });
  const { requests, errors } = session;

  async function open(file: string): Promise<Page> {
    const tab = await session.tab();
    await tab.goto(`file://${file}`);
    await tab.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    return tab;
  }

  const highlighted = (tab: Page) =>
    tab.$$eval('#hex .b.hl', (bs) => bs.map((b) => Number(b.getAttribute('data-o'))));
  const selectedPath = (tab: Page) =>
    tab.$eval('#tree .f.sel', (r) => r.getAttribute('data-path') ?? '');
  const clickSection = (tab: Page, name: string) =>
    tab.click(`#sections tbody tr:has(td.name:text-is("${name}"))`);

  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

  it('a field highlights its bytes at the offset the JSON gives; a byte selects its field', async () => {
    const { page, json } = await pageOf(streamPath('q35-nodefaults-paused'), 'q35');
    const cpu = json.sections.find((s) => s.idstr === 'cpu')!;
    const eip = cpu.state!.fields.find((f) => f.name === 'env.eip')!;
    const regs = cpu.state!.fields.find((f) => f.name === 'env.regs')!;
    const tab = await open(page);
    await clickSection(tab, 'cpu#0');
    await tab.click('#tree .f[data-path="cpu#0/env.eip"]');
    expect(await highlighted(tab)).toEqual(range(eip.offset, eip.size));
    const bytes = await tab.$$eval('#hex .b.hl', (bs) => bs.map((b) => b.textContent).join(''));
    expect(BigInt('0x' + bytes)).toBe(BigInt(eip.value as number));
    // A byte inside env.regs[2] selects env.regs.
    await tab.click(`#hex .b[data-o="${regs.offset + 2 * 8 + 5}"]`);
    expect(await selectedPath(tab)).toBe('cpu#0/env.regs');
    expect(await highlighted(tab)).toEqual(range(regs.offset, regs.size));
    // The keyboard: down from env.regs is env.eip.
    await tab.keyboard.press('ArrowDown');
    expect(await selectedPath(tab)).toBe('cpu#0/env.eip');
    // A field of another section, deep in a struct, by its bytes.
    const lpc = json.sections.find((s) => s.idstr.endsWith('ICH9LPC'))!;
    await clickSection(tab, lpc.idstr + '#0');
    const f = (lpc.state!.fields[0] as unknown as { fields: Field[] }).fields[1];
    await tab.click(`#hex .b[data-o="${f.offset}"]`);
    expect(await selectedPath(tab)).toBe(`${lpc.idstr}#0/d.${f.name}`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await tab.screenshot({ path: path.join(ARTIFACTS, 'explore-q35-ich9lpc.png') });
    await clickSection(tab, 'cpu#0');
    await tab.click('#tree .f[data-path="cpu#0/env.eip"]');
    await tab.screenshot({ path: path.join(ARTIFACTS, 'explore-q35-cpu.png') });
    await tab.close();
  }, 60000);

  it('search by field path finds a field in any section and selects it', async () => {
    const { page, json } = await pageOf(streamPath('q35-nodefaults-paused'), 'q35-search');
    const cpu = json.sections.find((s) => s.idstr === 'cpu')!;
    const aux = cpu.state!.fields.find((f) => f.name === 'env.tsc_aux')!;
    const tab = await open(page);
    await tab.keyboard.press('/');
    await tab.keyboard.type('cpu#0/env.tsc_aux');
    const hits = await tab.$$eval('#results .res', (rs) => rs.map((r) => r.textContent));
    expect(hits).toEqual(['cpu#0/env.tsc_aux']);
    await tab.keyboard.press('Enter');
    expect(await selectedPath(tab)).toBe('cpu#0/env.tsc_aux');
    expect(await highlighted(tab)).toEqual(range(aux.offset, aux.size));
    await tab.close();
  }, 60000);

  it('keys: ] and [ change section, up and down move between fields, left and right fold a struct', async () => {
    const { page, json } = await pageOf(streamPath('q35-nodefaults-paused'), 'q35-keys');
    const tab = await open(page);
    const sectionNames = json.sections.map((s) =>
      s.type === 'ram'
        ? `${s.idstr}#0`
        : `${s.idstr}#${(s as { instance?: number }).instance ?? 0}`,
    );
    const current = () =>
      tab.$eval('#sections tbody tr.sel td.name', (td) => (td.textContent ?? '').trim());
    await clickSection(tab, 'cpu#0');
    const at = sectionNames.indexOf('cpu#0');
    expect(at).toBeGreaterThan(0);
    await tab.keyboard.press(']');
    expect(await current()).toBe(sectionNames[at + 1]);
    await tab.keyboard.press('[');
    await tab.keyboard.press('[');
    expect(await current()).toBe(sectionNames[at - 1]);
    await tab.keyboard.press(']');
    expect(await current()).toBe('cpu#0');
    // Up from env.eip is the field above it.
    await tab.click('#tree .f[data-path="cpu#0/env.eip"]');
    await tab.keyboard.press('ArrowUp');
    expect(await selectedPath(tab)).toBe('cpu#0/env.regs');
    await tab.keyboard.press('ArrowDown');
    expect(await selectedPath(tab)).toBe('cpu#0/env.eip');
    // A struct (ICH9LPC's d): left folds it, so down skips its fields; right unfolds it.
    const lpc = json.sections.find((s) => s.idstr.endsWith('ICH9LPC'))!;
    await clickSection(tab, `${lpc.idstr}#0`);
    const struct = `${lpc.idstr}#0/d`;
    await tab.click(`#tree .f[data-path="${struct}"]`);
    const closed = () =>
      tab.$eval(`#tree .f[data-path="${struct}"]`, (r) =>
        (
          r.parentNode as unknown as { classList: { contains(c: string): boolean } }
        ).classList.contains('closed'),
      );
    await tab.keyboard.press('ArrowLeft');
    expect(await closed()).toBe(true);
    await tab.keyboard.press('ArrowDown');
    expect(await selectedPath(tab)).not.toMatch(
      new RegExp(`^${struct.replace(/[.#/]/g, '\\$&')}\\.`),
    );
    await tab.keyboard.press('ArrowUp');
    expect(await selectedPath(tab)).toBe(struct);
    await tab.keyboard.press('ArrowRight');
    expect(await closed()).toBe(false);
    await tab.keyboard.press('ArrowDown');
    expect(await selectedPath(tab)).toMatch(new RegExp(`^${struct.replace(/[.#/]/g, '\\$&')}\\.`));
    await tab.close();
  }, 60000);

  it('RAM: one map per block, drawn from page kinds only', async () => {
    const { page, json } = await pageOf(streamPath('q35-nodefaults-paused'), 'q35-ram');
    const tab = await open(page);
    await tab.click('#sections tbody tr:first-child');
    expect(await tab.$$eval('#tree canvas.ram', (cs) => cs.length)).toBe(json.ram.blocks.length);
    await tab.click('#tree canvas.ram');
    expect(await tab.textContent('#hex')).toMatch(/Page contents are not in the page/);
    await tab.screenshot({ path: path.join(ARTIFACTS, 'explore-q35-ram.png') });
    await tab.close();
  }, 60000);

  it('nested VMX state by field name; a stream without a description explores the same through the catalog', async () => {
    const file = path.join(GOLDEN, 'vmx-l2-shadow.mig');
    const { page, json } = await pageOf(file, 'nested');
    const tab = await open(page);
    await clickSection(tab, 'cpu#0');
    expect(await tab.isVisible('#nested-panel')).toBe(true);
    expect(await tab.textContent('#nested')).toMatch(/guest_rip/);
    // A vmcs12 field by name selects its bytes inside the raw page, where the kernel's layout puts it.
    const cpu = json.sections.find((s) => s.idstr === 'cpu')!;
    const raw = findField(cpu.state!, 'data.vmx[0].vmcs12')!;
    const rip = VMCS12_LAYOUT.field('guest_rip');
    await tab.click('#nested table[data-page="vmcs12"] tr[data-name="guest_rip"]');
    expect(await highlighted(tab)).toEqual(range(raw.offset + rip.offset, 8));
    const le = await tab.$$eval('#hex .b.hl', (bs) =>
      bs
        .map((b) => b.textContent)
        .reverse()
        .join(''),
    );
    const bytes = fs.readFileSync(file);
    expect(BigInt('0x' + le)).toBe(
      decodeVmcs12(bytes.subarray(raw.offset, raw.offset + 4096)).guest_rip as bigint,
    );
    await tab.screenshot({ path: path.join(ARTIFACTS, 'explore-nested.png') });
    await tab.close();

    const b = await pageOf(bare(file), 'nested-bare', true);
    const bareCpu = b.json.sections.find((s) => s.idstr === 'cpu')!;
    const eip = bareCpu.state!.fields.find((f) => f.name === 'env.eip')!;
    const t2 = await open(b.page);
    await clickSection(t2, 'cpu#0');
    expect(await t2.textContent('#tree-title')).toMatch(/by catalog/);
    await t2.click('#tree .f[data-path="cpu#0/env.eip"]');
    expect(await highlighted(t2)).toEqual(range(eip.offset, eip.size));
    expect(await t2.textContent('#nested')).toMatch(/guest_rip/);
    await t2.close();
  }, 60000);

  it('--serve: a click on a data page in the RAM map fetches its bytes from the loopback server', async () => {
    const file = streamPath('q35-nodefaults-paused');
    const { model, page } = await servedPage(file);
    const server = await startExploreServer(
      { host: '127.0.0.1', port: 0 },
      {
        page,
        file,
        pageSize: 4096,
        blockCount: model.ram.blockNames().length,
        locate: model.ram.locator(),
      },
    );
    const served: string[] = [];
    try {
      const maps = model.ram.maps();
      const bi = maps.findIndex((m) => m.cells.includes(PageKind.data));
      const cell = maps[bi].cells.indexOf(PageKind.data);
      const x = path.join(dir, 'x-serve');
      expect((await runCli(['analyze', file, '--extract', x])).code).toBe(0);
      const want = fs
        .readFileSync(path.join(x, model.ram.blockNames()[bi].replace(/^\/+/, '')))
        .subarray(cell * 4096, cell * 4096 + 16);
      const tab = await session.tab(served);
      await tab.goto(server.url);
      await tab.waitForSelector('body[data-ready="true"]');
      await tab.click('#sections tbody tr:first-child');
      // The map draws 128 cells a row at 4 px for blocks of up to 32768 cells.
      const w = Math.min(128, maps[bi].cells.length);
      const canvas = (await tab.$$('#tree canvas.ram'))[bi];
      await canvas.click({ position: { x: (cell % w) * 4 + 2, y: Math.floor(cell / w) * 4 + 2 } });
      await tab.waitForSelector('#hex .b');
      const first = await tab.$$eval('#hex .hr:first-child .b', (bs) =>
        bs.map((b) => b.textContent),
      );
      expect(first.join(' ')).toBe([...want].map((b) => b.toString(16).padStart(2, '0')).join(' '));
      expect(served.filter((u) => !u.startsWith(server.url))).toEqual([]);
      expect(served).toContain(`${server.url}ram/${bi}/${cell}`);
      await tab.close();
    } finally {
      await server.close();
    }
  }, 60000);

  it('made no request beyond the page itself and logged no error', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
