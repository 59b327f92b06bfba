/**
 * src/cli/stderr-on-create.ts: what the CLI sets up on process.stderr waits until something
 * reads it, so a run that prints nothing there does not make the stream.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Runs `body` in a fresh node whose stderr is a pipe (as callers capture it); returns its stdout. */
function inFreshNode(body: string): { stdout: string; stderr: string; status: number | null } {
  const module = path.resolve(__dirname, '..', 'src', 'cli', 'stderr-on-create.ts');
  const script = `
    require('ts-node').register({ transpileOnly: true });
    const { onStderrCreated } = require(${JSON.stringify(module)});
    const log = (s) => require('fs').writeSync(1, s + '\\n');
    ${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('onStderrCreated', () => {
  test('not called while nothing reads process.stderr', () => {
    const r = inFreshNode(`
      onStderrCreated(() => log('set up'));
      process.on('exit', () => log('exit'));`);
    expect(r.stdout).toBe('exit\n');
  });

  test('called once, with the stream node made, when process.stderr is first read', () => {
    const r = inFreshNode(`
      let seen;
      onStderrCreated((s) => { seen = s; log('set up'); });
      const first = process.stderr;
      log(String(first === seen && process.stderr === first));
      first.write('to stderr\\n');
      log(String(Object.getOwnPropertyDescriptor(process, 'stderr').get !== undefined));`);
    expect(r.stdout).toBe('set up\ntrue\ntrue\n');
    expect(r.stderr).toBe('to stderr\n');
  });

  test('a handler set up this way still sees write errors (a closed stderr)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stderr-on-create-'));
    const r = spawnSync(
      'bash',
      [
        '-c',
        `'${process.execPath}' -e "
          require('ts-node').register({ transpileOnly: true });
          const { onStderrCreated } = require('${path.resolve(__dirname, '..', 'src', 'cli', 'stderr-on-create.ts')}');
          onStderrCreated((s) => s.on('error', () => process.exit(7)));
          setTimeout(() => { for (let i = 0; i < 100; i++) process.stderr.write('x'.repeat(65536)); }, 200);
          setTimeout(() => process.exit(0), 5000);
        " 2>&1 >'${path.join(dir, 'stdout')}' | head -c0; echo "\${PIPESTATUS[0]}"`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stdout.trim()).toBe('7');
  });
});
