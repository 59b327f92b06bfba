import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerExplore(program: Command): void {
  program
    .command('explore')
    .description(
      'one self-contained HTML page to look inside a stream: sections, field tree, hex view (each selecting the other), RAM map, nested state',
    )
    .argument('<file>', "migration stream ('-' for stdin, not with --serve)")
    .option(
      '-o, --output <page>',
      "write the page to PAGE.html (whole or not at all); '-' is stdout",
    )
    .option(
      '--serve <host:port>',
      'serve the page on a loopback address (e.g. 127.0.0.1:8080; port 0 picks one) and RAM page bytes on demand',
    )
    .option(
      '--section <name>',
      "only the sections whose name matches (glob: '*', '?'; idstr or idstr#instance; repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--vmdesc <file>', "decode by this VM description JSON instead of the stream's own")
    .option('--no-progress', 'never draw a progress bar')
    .action(
      (
        file: string,
        opts: {
          output?: string;
          serve?: string;
          section: string[];
          vmdesc?: string;
          progress: boolean;
        },
      ) =>
        runCommand(file, async () => {
          const catalog = (await import('../catalog-wiring')).analysisCatalog();
          const { runExplore } = await import('../run/explore');
          process.exitCode = await runExplore(file, opts, catalog);
        }),
    );
}
