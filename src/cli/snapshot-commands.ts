/**
 * Which runs the start-up snapshot serves: analyze and the commands that share its modules
 * (reencode, edit), help and root options. Every other command (compat, tap, explore, diff,
 * predict, check, releases, ...) starts through launch.js (bin/vmstate picks by the first
 * argument), whose code cache holds their compiled code; their modules are left out of the
 * snapshot's bundle (build-snapshot.ts): 837 -> 568 KB of source, a 5.97 -> 5.68 MB snapshot.
 */

/** The commands whose modules the snapshot holds. */
export const SNAPSHOT_COMMANDS: readonly string[] = ['analyze', 'reencode', 'edit'];

/**
 * The modules the other commands import when they run (from src/cli/commands/), as written there:
 * build-snapshot.ts replaces them by a module that throws, so they stay out of the snapshot.
 */
export const NOT_IN_SNAPSHOT: readonly string[] = [
  '../run/check',
  '../run/compat',
  '../run/diff',
  '../run/explore',
  '../run/main',
  '../run/predict',
  '../run/releases',
  '../run/tap',
  '../../demo',
];

/**
 * Whether the snapshot runs `vmstate ARGS` itself (ARGS: the arguments after the script), by the
 * first argument as bin/vmstate's case does: a run it does not serve (from a node started by
 * hand) goes to the bundle in process.
 */
export function servedBySnapshot(args: readonly string[]): boolean {
  const first = args[0];
  // No command, a root option (--help, --version, a bad one) or `help [command]`: commander's text.
  if (first === undefined || first.startsWith('-') || first === 'help') return true;
  return SNAPSHOT_COMMANDS.includes(first);
}
