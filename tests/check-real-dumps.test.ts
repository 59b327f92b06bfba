/**
 * `vmstate check DUMP_A DUMP_B` on the real -dump-vmstate files of 5.2, 7.2 and 10.0
 * (streams/qemu-R/<machine>.vmstate.json.gz), set beside what real QEMU does and beside QEMU's
 * own scripts/vmstate-static-checker.py run on the same files:
 * - the real migrations of each pair's machine type (the real-matrix configurations, both
 *   directions) complete, and our check has no break on any device class those VMs carry;
 * - every break we report is on a device class whose real migration in that direction is
 *   refused naming that section, or that QEMU cannot create on this target at all; every
 *   device class we report no break for, migrated for real, loads;
 * - across machine types QEMU refuses at the configuration section and our check says so;
 * - the script's findings: every true one (a real refusal) is one of ours, none of its false
 *   ones (a class whose real migration completes) is.
 * VMSTATE_PRINT_TABLE=1 prints the comparison as README's table.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkCompat } from '../src/compat/static/check';
import { fromDumpJson, type CheckSet } from '../src/compat/static/model';
import type { Direction, Finding } from '../src/compat/static/rules';
import { locateVmdescInBytes, parseVmdesc } from '../src/stream/vmdesc';
import { staticCheckerPy } from './support/anchors';
import {
  captureStreamDetailed,
  describeQemu,
  incomingFromFile,
  type RealRelease,
} from './support/qemu';
import { failingSection, qemuErrorLines } from './support/qemu-verdict';
import { matrixCells, runRealMatrix, type MatrixReport } from './support/real-matrix';
import { committedDumps, dumpJson } from './fixtures/release-streams';

interface Dump {
  release: RealRelease;
  slug: string;
  file: string;
  json: Record<string, unknown>;
  set: CheckSet;
}
interface Pair {
  older: Dump;
  newer: Dump;
  machine: string;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-real-dumps-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const dumps: Dump[] = committedDumps().map((d) => {
  const json = dumpJson(d);
  const file = path.join(dir, `${d.release}-${d.slug}.json`);
  fs.writeFileSync(file, JSON.stringify(json));
  return { release: d.release, slug: d.slug, file, json, set: fromDumpJson(json, file) };
});
const rank = (r: string) => Number(r.split('.')[0]) * 100 + Number(r.split('.')[1]);
const samePairs: Pair[] = dumps.flatMap((a) =>
  dumps
    .filter((b) => b.slug === a.slug && rank(b.release) > rank(a.release))
    .map((b) => ({ older: a, newer: b, machine: a.set.machine! })),
);
const label = (p: Pair) => `${p.older.release} vs ${p.newer.release} on ${p.machine}`;

/** Our findings for a pair, by direction: forward = older -> newer, backward = newer -> older. */
const ours = (p: Pair) => checkCompat(p.older.set, p.newer.set, 'full').findings;
const breaksOf = (fs_: Finding[], d: Direction) =>
  fs_.filter((f) => f.severity === 'break' && f.direction === d);

/** The script's findings for SRC -> DEST: the sections it names, and its exit code. */
function script(src: Dump, dst: Dump): { sections: Set<string>; lines: string[]; code: number } {
  const r = spawnSync('python3', [staticCheckerPy(), '-s', src.file, '-d', dst.file], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status === null) throw new Error(`vmstate-static-checker.py: ${r.error?.message}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim());
  const sections = new Set(
    lines.map((l) => /^Section "([^"]+)"/.exec(l)?.[1]).filter((s): s is string => !!s),
  );
  return { sections, lines, code: r.status };
}

/** The description name of a dump's device class (a stream section's vmsd_name). */
const vmsdOf = (d: Dump, cls: string): string | undefined => d.set.entries.get(cls)?.name;

/** Device classes with no break of ours that the probes below migrate for real, and those with one. */
const PROBES: Readonly<Record<string, readonly string[]>> = {
  am53c974: ['-device', 'am53c974'],
  dc390: ['-device', 'dc390'],
  'sysbus-esp': ['-device', 'sysbus-esp'],
  'virtio-iommu-device': ['-device', 'virtio-iommu-pci'],
  esp: ['-device', 'esp'],
  i6300esb: ['-device', 'i6300esb'],
};

type Reality =
  | { kind: 'ok' }
  | { kind: 'refused'; section: string | undefined; lines: string[] }
  | { kind: 'cannot-create'; side: RealRelease; why: string };

async function migrateWith(
  from: RealRelease,
  to: RealRelease,
  machine: string,
  args: readonly string[],
): Promise<Reality> {
  const out = path.join(dir, `probe-${from}-${to}-${machine}-${args.join('_')}.mig`);
  try {
    await captureStreamDetailed({
      release: from,
      machine,
      extraArgs: [...args],
      out,
      timeoutMs: 60_000,
    });
  } catch (e) {
    return { kind: 'cannot-create', side: from, why: String((e as Error).message) };
  }
  let r;
  try {
    r = await incomingFromFile(out, {
      release: to,
      machine,
      extraArgs: [...args],
      timeoutMs: 60_000,
    });
  } catch (e) {
    return { kind: 'cannot-create', side: to, why: String((e as Error).message) };
  }
  if (r.ok) {
    await r.vm.close();
    return { kind: 'ok' };
  }
  const lines = qemuErrorLines(r.error);
  return { kind: 'refused', section: failingSection(lines), lines };
}

const lastElement = (idstr: string | undefined) => idstr?.slice(idstr.lastIndexOf('/') + 1);

describeQemu(
  'check on real -dump-vmstate files beside real migrations and vmstate-static-checker.py',
  () => {
    let matrix: MatrixReport;
    /** The description names of the sections each real VM of the pairs sent. */
    const carried = new Map<string, Set<string>>();
    const probes = new Map<string, Reality>();
    const probeKey = (from: string, to: string, machine: string, cls: string) =>
      `${from}->${to}@${machine}:${cls}`;

    beforeAll(async () => {
      const machines = [...new Set(samePairs.map((p) => p.machine))];
      const cells = matrixCells({
        machines,
        configurations: ['nodefaults-paused', 'defaults-paused'],
        acrossMachines: false,
      }).filter((c) =>
        samePairs.some(
          (p) =>
            p.machine === c.machine &&
            new Set([c.from, c.to]).size === 2 &&
            [p.older.release, p.newer.release].includes(c.from) &&
            [p.older.release, p.newer.release].includes(c.to),
        ),
      );
      const captures = path.join(dir, 'matrix');
      fs.mkdirSync(captures);
      matrix = await runRealMatrix(cells, { dir: captures, concurrency: 2 });
      for (const f of fs.readdirSync(captures).filter((x) => x.endsWith('.mig'))) {
        const bytes = new Uint8Array(fs.readFileSync(path.join(captures, f)));
        const at = locateVmdescInBytes(bytes, 0);
        if (at?.kind !== 'found') throw new Error(`${f}: no VM description`);
        const names = parseVmdesc(at.json, at.offset).devices.map((d) => d.vmsd_name ?? d.name);
        carried.set(f, new Set(names));
      }
      // One machine type per release pair: the dumps of a release differ between machine types
      // only in the machine's name (asserted below), so its probes stand for all of them.
      for (const p of probePairs()) {
        const classes = probeClasses(p);
        for (const [from, to] of [
          [p.older.release, p.newer.release],
          [p.newer.release, p.older.release],
        ] as const)
          for (const cls of classes)
            probes.set(
              probeKey(from, to, p.machine, cls),
              await migrateWith(from, to, p.machine, PROBES[cls]!),
            );
      }
    }, 900_000);

    /** The newest machine type of each release pair. */
    function probePairs(): Pair[] {
      const byReleases = new Map<string, Pair>();
      for (const p of samePairs) {
        const k = `${p.older.release}/${p.newer.release}`;
        const had = byReleases.get(k);
        if (
          !had ||
          rank(p.machine.replace(/^pc-(q35|i440fx)-/, '')) >
            rank(had.machine.replace(/^pc-(q35|i440fx)-/, ''))
        )
          byReleases.set(k, p);
      }
      return [...byReleases.values()];
    }
    /** The classes probed for a pair: every class with a break of ours or a finding of the script, that has a probe. */
    function probeClasses(p: Pair): string[] {
      const found = new Set(
        ours(p)
          .filter((f) => f.severity === 'break')
          .map((f) => f.entry),
      );
      for (const s of script(p.older, p.newer).sections) found.add(s);
      for (const s of script(p.newer, p.older).sections) found.add(s);
      found.add('i6300esb'); // a class neither flags: it must migrate
      return [...found].filter((c) => PROBES[c]).sort();
    }

    test('the pairs: every release pair on every machine type both have dumps for', () => {
      expect(samePairs.map(label)).toEqual(
        expect.arrayContaining(['7.2 vs 10.0 on pc-q35-7.2', '5.2 vs 10.0 on pc-i440fx-4.2']),
      );
      expect(samePairs.length).toBeGreaterThanOrEqual(10);
    });

    test("every real migration of the pairs' machine types completes, and our check has no break on a device class those VMs carry", () => {
      expect(matrix.cells.length).toBeGreaterThanOrEqual(samePairs.length * 4);
      expect(matrix.cells.filter((c) => c.reality.outcome !== 'ok').map((c) => c.cell.id)).toEqual(
        [],
      );
      for (const p of samePairs) {
        const findings = ours(p);
        for (const c of matrix.cells.filter((x) => x.cell.machine === p.machine)) {
          const rels = [p.older.release, p.newer.release];
          if (!rels.includes(c.cell.from) || !rels.includes(c.cell.to)) continue;
          const names = carried.get(
            `${c.cell.from}-${c.cell.machine}-${c.cell.configuration}.mig`,
          )!;
          expect(names.size).toBeGreaterThan(5);
          const direction: Direction = c.cell.from === p.older.release ? 'forward' : 'backward';
          const src = c.cell.from === p.older.release ? p.older : p.newer;
          const wrong = breaksOf(findings, direction).filter((f) => {
            const v = vmsdOf(src, f.entry);
            return v !== undefined && names.has(v);
          });
          expect({ cell: c.cell.id, wrong }).toEqual({ cell: c.cell.id, wrong: [] });
        }
      }
    });

    test('the dumps of a release differ between its machine types only in the machine name', () => {
      for (const d of dumps) {
        const other = dumps.find((x) => x.release === d.release && x.slug !== d.slug)!;
        const strip = (j: Record<string, unknown>) => JSON.stringify({ ...j, vmschkmachine: 0 });
        expect(strip(d.json)).toBe(strip(other.json));
      }
    });

    test('every break of ours names a device class whose real migration is refused naming its section, or that QEMU cannot create; the probed classes without a break load', () => {
      let refused = 0;
      for (const p of probePairs()) {
        const findings = ours(p);
        const broken = new Set(findings.filter((f) => f.severity === 'break').map((f) => f.entry));
        // Every class we break on has a probe: none is left unjudged.
        expect([...broken].filter((c) => !PROBES[c])).toEqual([]);
        for (const cls of probeClasses(p))
          for (const direction of ['forward', 'backward'] as const) {
            const [from, to] =
              direction === 'forward'
                ? [p.older.release, p.newer.release]
                : [p.newer.release, p.older.release];
            const real = probes.get(probeKey(from, to, p.machine, cls))!;
            const ourBreaks = breaksOf(findings, direction).filter((f) => f.entry === cls);
            const src = direction === 'forward' ? p.older : p.newer;
            const where = { pair: label(p), direction, cls, real };
            if (real.kind === 'cannot-create') {
              // No VM has it: nothing to migrate. QEMU must say so, not fail otherwise.
              expect(real.why).toMatch(
                /not user creatable|fails to create|is not a valid device model name|Parameter 'driver' expects/,
              );
              continue;
            }
            if (real.kind === 'refused') {
              refused++;
              expect({ ...where, section: lastElement(real.section) }).toEqual({
                ...where,
                section: vmsdOf(src, cls),
              });
              expect({ ...where, breaks: ourBreaks.length > 0 }).toEqual({
                ...where,
                breaks: true,
              });
            } else expect({ ...where, breaks: ourBreaks }).toEqual({ ...where, breaks: [] });
          }
      }
      expect(refused).toBeGreaterThan(0);
    });

    test('across machine types QEMU refuses at the configuration section: a break of ours naming it; the script only warns', () => {
      const across = dumps.filter((d) => d.slug === 'q35-3.1' || d.slug === `q35-${d.release}`);
      const a = across.find((d) => d.release === '7.2' && d.slug === 'q35-3.1')!;
      const b = across.find((d) => d.release === '10.0' && d.slug === 'q35-10.0')!;
      const findings = checkCompat(a.set, b.set, 'full').findings;
      expect(findings.filter((f) => f.severity === 'break' && f.entry === 'configuration')).toEqual(
        [
          expect.objectContaining({ rule: 'MACHINE_TYPE_DIFFERS', direction: 'forward' }),
          expect.objectContaining({ rule: 'MACHINE_TYPE_DIFFERS', direction: 'backward' }),
        ],
      );
      // The script's exit code counts its findings: the machine type adds none to it.
      const s = script(a, b);
      const same = script(
        a,
        dumps.find((d) => d.release === '10.0' && d.slug === 'q35-3.1')!,
      );
      expect(s.code).toBe(same.code);
      expect(s.lines.filter((l) => /machine types/.test(l))).toEqual([
        expect.stringMatching(/^Warning: checking incompatible machine types/),
      ]);
    });

    test('the script beside ours: every true break it finds is ours, none of its false ones is, and it has false ones', () => {
      let falseOnes = 0;
      const rows: string[] = [];
      for (const p of samePairs) {
        const findings = ours(p);
        const cells = [];
        for (const direction of ['forward', 'backward'] as const) {
          const [src, dst] = direction === 'forward' ? [p.older, p.newer] : [p.newer, p.older];
          const s = script(src, dst);
          const ourBroken = new Set(breaksOf(findings, direction).map((f) => f.entry));
          const probe = probePairs().find(
            (x) => x.older.release === p.older.release && x.newer.release === p.newer.release,
          )!;
          const realOf = (cls: string): 'ok' | 'refused' | undefined => {
            const v = vmsdOf(src, cls);
            const migrated = matrix.cells.some(
              (c) =>
                c.cell.from === src.release &&
                c.cell.to === dst.release &&
                c.cell.machine === p.machine &&
                carried
                  .get(`${c.cell.from}-${c.cell.machine}-${c.cell.configuration}.mig`)
                  ?.has(v!),
            );
            if (migrated) return 'ok';
            const r = probes.get(probeKey(src.release, dst.release, probe.machine, cls));
            return r?.kind === 'ok' ? 'ok' : r?.kind === 'refused' ? 'refused' : undefined;
          };
          const theirs = [...s.sections];
          const trueOnes = theirs.filter((c) => realOf(c) === 'refused');
          const falses = theirs.filter((c) => realOf(c) === 'ok');
          falseOnes += falses.length;
          expect({
            pair: label(p),
            direction,
            missed: trueOnes.filter((c) => !ourBroken.has(c)),
          }).toEqual({
            pair: label(p),
            direction,
            missed: [],
          });
          expect({
            pair: label(p),
            direction,
            copied: falses.filter((c) => ourBroken.has(c)),
          }).toEqual({
            pair: label(p),
            direction,
            copied: [],
          });
          const refusedReally = [...ourBroken].filter((c) => realOf(c) === 'refused');
          cells.push(
            `${s.lines.length} (${falses.length} on descriptions that migrate: ${falses.join(', ') || '-'}; ${trueOnes.length} true)`,
            `${ourBroken.size} (${[...ourBroken].join(', ') || '-'}; ${refusedReally.length} refused for real)`,
          );
        }
        rows.push(`| ${label(p)} | ${cells.join(' | ')} |`);
      }
      expect(falseOnes).toBeGreaterThan(0);
      if (process.env.VMSTATE_PRINT_TABLE) process.stdout.write(`${rows.join('\n')}\n`);
    });
  },
  '10.0',
);
