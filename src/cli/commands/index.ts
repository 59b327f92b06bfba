import type { Command } from 'commander';
import { registerDemo } from './demo';

/** Every subcommand, in the order `vmstate --help` lists them. */
export function registerCommands(program: Command): void {
  registerDemo(program);
}
