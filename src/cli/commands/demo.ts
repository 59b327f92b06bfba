import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'build a description, save a state, load it back and print it (what `npm start` runs)',
    )
    .action(() =>
      runCommand(undefined, async () => {
        const { runDemo } = await import('../../demo');
        process.stdout.write(runDemo());
      }),
    );
}
