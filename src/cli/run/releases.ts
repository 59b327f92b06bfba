/**
 * The bodies of `vmstate releases` and `vmstate generate` (the command files only parse
 * options and load this lazily).
 */
import { RefusedError, UsageError } from '../../errors';
import { checkOutputPath } from '../../stream/atomic-file';
import { readInputFile } from './input';
import { writeOutput } from './output';
import { cpuEverythingDescription } from '../../../vmstate/x86/cpu';
import type { X86Ctx } from '../../../vmstate/x86/ctx';
import { cpuResetState } from '../../../vmstate/x86/reset';
import { scenario, scenarios } from '../../../vmstate/x86/scenarios';
import { NestedStateError, parseNestedState, type NestedState } from '../../../vmstate/x86/kvm';
import { DESIGN_NAMES, designs, RELEASE_NAMES, releases } from '../../../vmstate/releases';
import { generateStream } from '../../../vmstate/releases/generate';
import {
  StateJsonError,
  vmStateFromJson,
  vmStateToJson,
} from '../../../vmstate/releases/state-json';
import { sectionKey, type Release, type VmStates } from '../../../vmstate/releases/types';
import { initialState } from '../../engine/state';
import type { AnyVMSDesc, State } from '../../dsl';

/** A release or a design by name. */
export function releaseOrDesign(name: string): Release | undefined {
  return releases[name] ?? designs[name];
}

function subsectionTree(d: AnyVMSDesc, depth = 0): string[] {
  const out: string[] = [];
  for (const s of d.subsections as readonly AnyVMSDesc[]) {
    out.push(`${'  '.repeat(depth)}${s.name}`);
    out.push(...subsectionTree(s, depth + 1));
    for (const f of s.fields) {
      const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
      if (nested && nested.subsections.length) out.push(...subsectionTree(nested, depth + 1));
    }
  }
  return out;
}

function describeRelease(r: Release) {
  const cpu = r.catalog.find((c) => c.name === 'cpu')!.vmsd;
  return {
    name: r.name,
    kind: r.kind,
    summary: r.summary,
    devices: r.devices ?? null,
    sections: r.catalog.map((c) => ({
      name: c.name,
      instance: c.instance,
      vmsd: c.vmsd.name,
      version: c.vmsd.version_id,
      sectionId: c.sectionId,
      priority: c.priority,
    })),
    cpuSubsections: (cpu.subsections as readonly AnyVMSDesc[]).map((s) => s.name),
    nestedTree: subsectionTree(cpu).filter(
      (l) => l.trim().startsWith('cpu/nested_state') || l.trim().startsWith('cpu/kvm_nested_state'),
    ),
    nestedDesign: r.cpuFeatures.nested?.name ?? null,
    defaultMachine: r.defaultMachine,
    machineTypes: r.machineTypes.map((m) => ({
      name: m.name,
      family: m.family,
      version: m.version,
      compatProps: m.compatProps,
    })),
  };
}

export function runReleases(opts: { json?: boolean }): void {
  const rel = RELEASE_NAMES.map((n) => describeRelease(releases[n]));
  const des = DESIGN_NAMES.map((n) => describeRelease(designs[n]));
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ releases: rel, designs: des, scenarios: scenarios().map((s) => ({ name: s.name, summary: s.summary })) }, null, 2)}\n`,
    );
    return;
  }
  const lines: string[] = [];
  const show = (title: string, list: ReturnType<typeof describeRelease>[]) => {
    lines.push(title);
    for (const r of list) {
      const kind = r.kind === 'design' ? '' : `[${r.kind}] `;
      lines.push(`  ${r.name.padEnd(19)} ${kind}${r.summary}`);
      lines.push(
        `  ${''.padEnd(19)} cpu: ${r.cpuSubsections.length} subsections; nested: ${r.nestedTree.map((l) => l.trim()).join(', ') || 'none'}`,
      );
      for (const family of ['pc-i440fx', 'pc-q35'] as const) {
        const ms = r.machineTypes.filter((m) => m.family === family);
        if (ms.length === 0) continue;
        const newest = ms[0];
        const props = newest.compatProps.length;
        lines.push(
          `  ${''.padEnd(19)} ${family} (${ms.length}): ${ms[ms.length - 1].name.slice(family.length + 1)} .. ${newest.name.slice(family.length + 1)}` +
            `; oldest applies ${ms[ms.length - 1].compatProps.length} compat properties${props ? `, newest ${props}` : ''}`,
        );
      }
    }
  };
  show('releases:', rel);
  show('designs:', des);
  lines.push('scenarios (vmstate generate --scenario):');
  for (const s of scenarios()) lines.push(`  ${s.name.padEnd(26)} ${s.summary}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export interface GenerateCliOptions {
  release: string;
  machine?: string;
  scenario?: string;
  state?: string;
  /** A raw struct kvm_nested_state (a KVM_GET_NESTED_STATE dump) to put into the vCPU. */
  nestedState?: string;
  output?: string;
  lossy?: boolean;
  writeState?: string;
}

/** The base state of a section before a state file's values are applied. */
function baseState(r: Release, section: string, ctx: X86Ctx): State {
  if (section === 'cpu') return cpuResetState(ctx);
  const c = r.catalog.find((x) => x.name === section);
  return c ? (initialState(c.vmsd) as State) : {};
}

function descOf(r: Release, section: string): AnyVMSDesc | undefined {
  if (section === 'cpu') return cpuEverythingDescription; // every key any release uses
  return r.catalog.find((c) => c.name === section)?.vmsd;
}

export async function runGenerate(opts: GenerateCliOptions): Promise<number> {
  const r = releaseOrDesign(opts.release);
  if (!r)
    throw new UsageError(
      `generate: unknown release '${opts.release}' (releases: ${RELEASE_NAMES.join(', ')}; designs: ${DESIGN_NAMES.join(', ')})`,
    );
  if (!!opts.scenario === !!opts.state)
    throw new UsageError('generate: give exactly one of --scenario NAME or --state FILE.json');
  if (!opts.output && !opts.writeState)
    throw new UsageError('generate: give -o OUT.mig (or --write-state FILE.json)');
  if (opts.output === '-' && opts.writeState === '-')
    throw new UsageError('generate: only one of -o and --write-state can be stdout (-)');
  // Before any work: a path that cannot be written is a usage error (exit 2) naming it.
  if (opts.output && opts.output !== '-') checkOutputPath(opts.output, 'file');
  if (opts.writeState && opts.writeState !== '-') checkOutputPath(opts.writeState, 'file');

  let vm: { ctx: X86Ctx; state: VmStates };
  if (opts.scenario) {
    const sc = scenario(opts.scenario);
    if (!sc)
      throw new UsageError(
        `generate: unknown scenario '${opts.scenario}' (${scenarios()
          .map((s) => s.name)
          .join(', ')})`,
      );
    vm = { ctx: sc.ctx, state: sc.state as unknown as VmStates };
  } else {
    let json: unknown;
    try {
      json = JSON.parse(readInputFile(opts.state!, '--state'));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      process.stderr.write(`vmstate: ${opts.state}: ${(e as Error).message}\n`);
      return 3;
    }
    try {
      const file = vmStateFromJson(
        json,
        (s) => descOf(r, s),
        (s, ctx) => baseState(r, s, ctx),
      );
      // Sections the file leaves out are those of a reset VM (QEMU always writes every one).
      const sections: Record<string, State> = {};
      for (const c of r.catalog)
        sections[sectionKey(c.name, c.instance)] =
          file.sections[sectionKey(c.name, c.instance)] ?? baseState(r, c.name, file.ctx);
      vm = { ctx: file.ctx, state: sections };
    } catch (e) {
      if (e instanceof StateJsonError) {
        process.stderr.write(`vmstate: ${opts.state}: ${e.message}\n`);
        return 3;
      }
      throw e;
    }
  }

  if (opts.nestedState) {
    // A KVM_GET_NESTED_STATE dump: the kernel's struct kvm_nested_state, checked by KVM's own rules.
    let nested: NestedState;
    try {
      nested = parseNestedState(
        new Uint8Array(readInputFile(opts.nestedState, '--nested-state', null)),
      );
    } catch (e) {
      if (!(e instanceof NestedStateError)) throw e;
      process.stderr.write(
        `vmstate: ${opts.nestedState}: offset 0x${e.offset.toString(16)}, ${e.path}: ${e.what}\n`,
      );
      return 3;
    }
    const cpu = vm.state.cpu;
    if (!cpu)
      throw new UsageError(`generate: release ${r.name} has no cpu section for --nested-state`);
    vm = {
      ctx: vm.ctx,
      state: { ...vm.state, cpu: { ...cpu, 'env.nested_state': { ...nested } } },
    };
  }

  if (opts.writeState) {
    const text = `${JSON.stringify(
      vmStateToJson({ ctx: vm.ctx, sections: vm.state }, (s) => descOf(r, s)),
      null,
      2,
    )}\n`;
    await writeOutput(opts.writeState, text, '--write-state');
    if (!opts.output) return 0;
  }

  const outcome = generateStream(r, opts.machine ?? r.defaultMachine, vm, { lossy: opts.lossy });
  if (!outcome.ok) {
    if (outcome.why === 'unknown-machine') throw new UsageError(`generate: ${outcome.message}`);
    throw new RefusedError(`generate: ${outcome.message}`);
  }
  await writeOutput(opts.output, outcome.bytes, '-o');
  if (outcome.lost)
    process.stderr.write(
      `vmstate: generate: written with state lost, as QEMU ${r.name} would: ${outcome.lost}\n`,
    );
  return 0;
}
