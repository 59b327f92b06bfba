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
import { registerPredict } from './predict';
import { registerMain } from './main';
import { registerDiff } from './diff';
import { registerTap } from './tap';

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
  registerPredict(program);
  registerDiff(program);
  registerTap(program);
  registerMain(program);
}
