/**
 * QEMU 10.0 on its own machine types sends QEMU_VM_COMMAND MIG_CMD_SWITCHOVER_START (11, no
 * payload) when precopy switches over: in savevm.c's qemu_savevm_maybe_send_switchover_start,
 * gated by the migration property send-switchover-start, which hw_compat_9_2 turns off. It lands
 * between the RAM section's last PART and its END. Decoded from real 10.0 streams.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readStreamContents } from '../src/stream/collect';
import { fileSource } from '../src/stream/source';
import { captureStreamDetailed, describeQemu } from './support/qemu';
import { reencodeBytes } from './fixtures/stream-helpers';
import { runAnalyzeMigration } from './support/anchors';
import { runCli } from './fixtures/run-cli';

const removeDir = (file: string) => fs.rmSync(path.dirname(file), { recursive: true, force: true });

describeQemu(
  'QEMU 10.0: the SWITCHOVER_START command after RAM',
  () => {
    test('pc-i440fx-10.0 sends it once, between RAM PART and END; analyze, the script and reencode agree', async () => {
      const cap = await captureStreamDetailed({ release: '10.0', machine: 'pc' });
      try {
        expect(cap.machineType).toBe('pc-i440fx-10.0');
        const src = await fileSource(cap.path);
        const c = await readStreamContents(src).finally(() => src.close());
        const commands = c.entries.filter((e) => e.type === 'command');
        expect(commands).toHaveLength(1);
        const cmd = commands[0];
        if (cmd.type !== 'command') throw new Error('not a command');
        expect(cmd.name).toBe('SWITCHOVER_START');
        expect(cmd.cmd).toBe(11);
        expect(cmd.payload.length).toBe(0);
        const i = c.entries.indexOf(cmd);
        const before = c.entries[i - 1];
        const after = c.entries[i + 1];
        expect(before.type === 'ram-section' && before.kind).toBe('part');
        expect(after.type === 'ram-section' && after.kind).toBe('end');

        const json = JSON.parse((await runCli(['analyze', cap.path])).stdout);
        expect(json.sections.filter((s: { type: string }) => s.type === 'command')).toEqual([
          {
            type: 'command',
            command: 'SWITCHOVER_START',
            offset: cmd.offset,
            length: 0,
            payload: '',
          },
        ]);
        const bytes = new Uint8Array(fs.readFileSync(cap.path));
        expect(Buffer.compare(Buffer.from(await reencodeBytes(bytes)), Buffer.from(bytes))).toBe(0);
        const ours = await runCli(['analyze', cap.path, '--format', 'qemu']);
        expect(JSON.parse(ours.stdout)).toEqual(JSON.parse(runAnalyzeMigration(cap.path)));
      } finally {
        removeDir(cap.path);
      }
    });

    test('pc-i440fx-9.2 on the same 10.0 (send-switchover-start off by hw_compat_9_2) sends none', async () => {
      const cap = await captureStreamDetailed({ release: '10.0', machine: 'pc-i440fx-9.2' });
      try {
        const src = await fileSource(cap.path);
        const c = await readStreamContents(src).finally(() => src.close());
        expect(c.entries.filter((e) => e.type === 'command')).toEqual([]);
      } finally {
        removeDir(cap.path);
      }
    });
  },
  '10.0',
);
