import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REAL_STREAMS, analyzerOutput, readStream, streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('vmstate analyze', () => {
  test.each(REAL_STREAMS)(
    '--format qemu on %s prints what analyze-migration.py printed',
    async (name) => {
      const state = await runCli(['analyze', streamPath(name), '--format', 'qemu']);
      expect(state.code).toBe(0);
      expect(JSON.parse(state.stdout)).toEqual(JSON.parse(analyzerOutput(name, 'state')));
      const desc = await runCli([
        'analyze',
        streamPath(name),
        '--format',
        'qemu',
        '--dump',
        'desc',
      ]);
      expect(desc.code).toBe(0);
      expect(JSON.parse(desc.stdout)).toEqual(JSON.parse(analyzerOutput(name, 'desc')));
    },
  );

  test('--format json (the default) gives section ids, offsets, sizes, field types and a RAM summary', async () => {
    const r = await runCli(['analyze', streamPath('pc-nodefaults-paused')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.size).toBe(199011);
    expect(j.configuration.machineType).toBe('pc-i440fx-7.2');
    expect(j.footers).toBe(33);
    expect(j.eof.offset).toBe(100356);
    expect(j.vmdesc).toMatchObject({ offset: 100357, length: 98649, devices: 30 });
    expect(j.ram.blocks[0]).toMatchObject({
      name: 'pc.ram',
      length: '0x2000000',
      zeroPages: 8192,
      pages: 0,
    });
    const cpu = j.sections.find((s: { idstr: string }) => s.idstr === 'cpu');
    expect(cpu).toMatchObject({
      type: 'device',
      kind: 'full',
      sectionId: 5,
      instanceId: 0,
      version: 12,
      decodedBy: 'vmdesc',
      vmsd: 'cpu',
    });
    const eip = cpu.state.fields.find((f: { name: string }) => f.name === 'env.eip');
    expect(eip).toMatchObject({ type: 'uint64', size: 8, value: 0xfff0, hex: '0xfff0' });
    expect(eip.offset).toBe(cpu.bodyOffset + 128);
    expect(cpu.state.subsections.map((s: { name: string }) => s.name)).toEqual([
      'cpu/poll_control_msr',
    ]);
    expect(
      j.sections
        .filter((s: { type: string }) => s.type === 'ram')
        .map((s: { kind: string }) => s.kind),
    ).toEqual(['start', 'part', 'end']);
  });

  test('--format tree gives an outline', async () => {
    const r = await runCli(['analyze', streamPath('q35-nodefaults-paused'), '--format', 'tree']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/configuration: machine pc-q35-7\.2/);
    expect(r.stdout).toMatch(/\[5\] FULL cpu#0 v12: \d+ bytes, by vmdesc/);
    expect(r.stdout).toMatch(/env\.eip = 0xfff0/);
    expect(r.stdout).toMatch(/EOF; 32 section footers/);
  });

  test('truncated input: exit 3 and one line naming the file, the hex offset, the section and field', async () => {
    const full = readStream('pc-nodefaults-paused');
    const file = path.join(dir, 'cut.mig');
    // The vmdesc cut off the end, sections are found by footer; cut inside the cpu section
    fs.writeFileSync(file, full.subarray(0, 0x15620 + 500));
    const r = await runCli(['analyze', file]);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(/offset 0x[0-9a-f]+/);
    expect(lines[0]).toMatch(/cpu#0/);
    expect(lines[0]).toMatch(/truncated/);
    expect(r.stdout).toBe('');
  });

  test('not a migration stream: exit 3', async () => {
    const file = path.join(dir, 'junk.bin');
    fs.writeFileSync(file, 'hello world, not QEVM');
    const r = await runCli(['analyze', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/offset 0x0, header: not a migration stream/);
  });

  test('usage errors: exit 2', async () => {
    expect(
      (await runCli(['analyze', streamPath('pc-nodefaults-paused'), '--format', 'xml'])).code,
    ).toBe(2);
    expect(
      (await runCli(['analyze', streamPath('pc-nodefaults-paused'), '--dump', 'ram'])).code,
    ).toBe(2);
    expect((await runCli(['analyze', path.join(dir, 'missing.mig')])).code).toBe(2);
    expect((await runCli(['analyze'])).code).toBe(2);
  });

  test('--check-catalog without a catalog passed in: a usage error saying so', async () => {
    const { runAnalyze } = await import('../src/cli/run/analyze');
    await expect(
      runAnalyze(streamPath('pc-nodefaults-paused'), { checkCatalog: true }),
    ).rejects.toThrow(/no device catalog was given/);
  });
});

describe('vmstate reencode and edit', () => {
  test('reencode writes a byte-identical copy', async () => {
    const out = path.join(dir, 're.mig');
    const r = await runCli(['reencode', streamPath('q35-nodefaults-paused'), '-o', out]);
    expect(r.code).toBe(0);
    expect(
      Buffer.compare(fs.readFileSync(out), fs.readFileSync(streamPath('q35-nodefaults-paused'))),
    ).toBe(0);
  });

  test('edit sets fields; analyze shows the new values', async () => {
    const out = path.join(dir, 'ed.mig');
    const r = await runCli([
      'edit',
      streamPath('pc-nodefaults-paused'),
      '-o',
      out,
      '--set',
      'cpu#0/env.eip=0x1234',
      '--set',
      'cpu#0/env.regs[1]=0xdeadbeef',
    ]);
    expect(r.code).toBe(0);
    const a = JSON.parse((await runCli(['analyze', out, '--format', 'qemu'])).stdout);
    expect(a['cpu (5)']['env.eip']).toBe('0x0000000000001234');
    expect(a['cpu (5)']['env.regs'][1]).toBe('0x00000000deadbeef');
  });

  test('a value that does not fit its field: exit 2, no output file', async () => {
    const out = path.join(dir, 'nofit.mig');
    const r = await runCli([
      'edit',
      streamPath('pc-nodefaults-paused'),
      '-o',
      out,
      '--set',
      'cpu#0/env.hflags=0x1ffffffff',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not fit the field \(uint32/);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('edit without --set, or reencode without -o: exit 2', async () => {
    expect(
      (await runCli(['edit', streamPath('pc-nodefaults-paused'), '-o', path.join(dir, 'x.mig')]))
        .code,
    ).toBe(2);
    expect((await runCli(['reencode', streamPath('pc-nodefaults-paused')])).code).toBe(2);
  });

  test('reencode of a corrupt stream: exit 3 and no output file', async () => {
    const bad = readStream('pc-nodefaults-paused').slice();
    bad[26 + 16] = 5; // the RAM START header's version: only 4 exists
    const file = path.join(dir, 'bad.mig');
    fs.writeFileSync(file, bad);
    const out = path.join(dir, 'bad-out.mig');
    const r = await runCli(['reencode', file, '-o', out]);
    expect(r.code).toBe(3);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('--vmdesc for streams without one', () => {
  test('a stream cut at EOF is decoded and edited by the desc.json of another capture', async () => {
    const full = readStream('pc-nodefaults-paused');
    const stripped = path.join(dir, 'novmdesc.mig');
    fs.writeFileSync(stripped, full.subarray(0, 100357));
    const desc = path.join(dir, 'desc.json');
    fs.writeFileSync(desc, analyzerOutput('pc-nodefaults-paused', 'desc'));
    const r = await runCli(['analyze', stripped, '--format', 'qemu', '--vmdesc', desc]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(
      JSON.parse(analyzerOutput('pc-nodefaults-paused', 'state')),
    );
    const out = path.join(dir, 'novmdesc-edited.mig');
    expect(
      (await runCli(['edit', stripped, '-o', out, '--vmdesc', desc, '--set', 'cpu#0/env.eip=0x77']))
        .code,
    ).toBe(0);
    const after = JSON.parse(
      (await runCli(['analyze', out, '--format', 'qemu', '--vmdesc', desc])).stdout,
    );
    expect(after['cpu (5)']['env.eip']).toBe('0x0000000000000077');
    expect(
      (await runCli(['analyze', stripped, '--vmdesc', path.join(dir, 'nope.json')])).code,
    ).toBe(2);
  });
});

describe('process-wide listeners', () => {
  test('the EPIPE guard on stdout is added once per process, however often the CLI is loaded', async () => {
    // jest loads the modules afresh for each test file in one process, as here: a guard kept in
    // a module variable added one listener per load (MaxListenersExceededWarning in a test run).
    const stream = streamPath('pc-nodefaults-paused');
    await runCli(['analyze', stream, '--format', 'qemu']);
    const once = process.stdout.listenerCount('error');
    expect(once).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++)
      await jest.isolateModulesAsync(async () => {
        const fresh = await import('./fixtures/run-cli');
        expect((await fresh.runCli(['analyze', stream, '--format', 'qemu'])).code).toBe(0);
      });
    expect(process.stdout.listenerCount('error')).toBe(once);
  });
});
