/** What a destination QEMU said about a stream, in the form predictions are compared with. */

/** QEMU's stderr without the program name and without warnings (e.g. deprecated machine types). */
export function qemuErrorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.replace(/^qemu-system-x86_64: /, '').trim())
    .filter((l) => l && !l.startsWith('warning:') && !l.startsWith('migration failed'));
}

/**
 * The section QEMU names as the first to fail: the idstr of "Unknown savevm section or
 * instance", "error while loading state ... of device", a footer or version line, or
 * 'configuration' for the machine-type check; undefined when no line names one.
 */
export function failingSection(lines: readonly string[]): string | undefined {
  for (const l of lines) {
    if (/^Machine type received is|^Configuration section missing/.test(l)) return 'configuration';
    const m =
      /^Unknown savevm section or instance '([^']*)'/.exec(l) ??
      /^savevm: unsupported version \d+ for '([^']*)'/.exec(l) ??
      /^error while loading state for instance 0x[0-9a-f]+ of device '([^']*)'/.exec(l) ??
      /^Missing section footer for (\S+)/.exec(l) ??
      /^Mismatched section id in footer for (\S+)/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}
