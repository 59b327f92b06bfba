import type { Command } from 'commander';
export function registerTap(program: Command): void {
  void program;
}
