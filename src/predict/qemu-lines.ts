/**
 * The lines a destination QEMU prints on stderr when `qemu_loadvm_state` fails, in the order it
 * prints them (migration/savevm.c and migration/vmstate.c): the check that failed, then the
 * section that was being loaded when the failure is inside a section body, then the final
 * "load of migration failed" with the errno's text. The program-name prefix is left out.
 */

/** strerror() of the errnos loadvm returns. */
export const ERRNO_TEXT = {
  EINVAL: 'Invalid argument',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  ERANGE: 'Numerical result out of range',
} as const;
export type Errno = keyof typeof ERRNO_TEXT;

export const qemuLines = {
  configurationMissing: (): string => 'Configuration section missing',
  machineType: (received: string, local: string): string =>
    `Machine type received is '${received}' and local is '${local}'`,
  unknownSection: (idstr: string, instance: number): string =>
    `Unknown savevm section or instance '${idstr}' ${instance}. Make sure that your current VM ` +
    'setup matches your saved VM setup, including any hotplugged devices',
  unsupportedSectionVersion: (idstr: string, version: number, local: number): string =>
    `savevm: unsupported version ${version} for '${idstr}' v${local}`,
  tooNew: (vmsd: string, version: number, local: number): string =>
    `${vmsd}: incoming version_id ${version} is too new for local version_id ${local}`,
  tooOld: (vmsd: string, version: number, minimum: number): string =>
    `${vmsd}: incoming version_id ${version} is too old for local minimum version_id  ${minimum}`,
  whileLoading: (idstr: string, instance: number): string =>
    `error while loading state for instance 0x${instance.toString(16)} of device '${idstr}'`,
  missingFooter: (idstr: string): string => `Missing section footer for ${idstr}`,
  mismatchedFooter: (idstr: string, read: number, expected: number): string =>
    `Mismatched section id in footer for ${idstr} - read 0x${read.toString(16)} expected 0x${expected.toString(16)}`,
  unknownCommand: (cmd: number, len: number): string =>
    `MIG_CMD 0x${cmd.toString(16)} unknown (len 0x${len.toString(16)})`,
  loadFailed: (errno: Errno): string => `load of migration failed: ${ERRNO_TEXT[errno]}`,
};
