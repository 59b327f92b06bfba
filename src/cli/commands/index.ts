import type { Command } from 'commander';
import { registerDemo } from './demo';
import { registerAnalyze } from './analyze';
import { registerReencode } from './reencode';
import { registerEdit } from './edit';
import { registerExplore } from './explore';
import { registerReleases } from './releases';
import { registerGenerate } from './generate';
import { registerCheck } from './check';
import { registerCompat } from './compat';
import { registerMain } from './main';

/** Every subcommand, in the order `vmstate --help` lists them. */
export function registerCommands(program: Command): void {
  registerDemo(program);
  registerAnalyze(program);
  registerReencode(program);
  registerEdit(program);
  registerExplore(program);
  registerReleases(program);
  registerGenerate(program);
  registerCheck(program);
  registerCompat(program);
  registerMain(program);
}
