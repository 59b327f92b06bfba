/** `vmstate predict FILE --to RELEASE [--machine M] [--json]`. */
import { UsageError } from '../../errors';
import { formatPrediction, predictLoad } from '../../predict/predict';
import { HOSTS, PLATFORMS } from '../../../vmstate/platforms';
import { EXIT } from '../exit';
import { openInput } from './input';

export async function runPredict(
  file: string,
  opts: { to: string; machine?: string; accel?: string; json?: boolean },
  out: NodeJS.WritableStream,
  err?: NodeJS.WritableStream,
): Promise<number> {
  const release = opts.to;
  if (!PLATFORMS.releases.includes(release))
    throw new UsageError(
      `release '${release}' is unknown to the catalog (it knows: ${PLATFORMS.releases.join(', ')})`,
    );
  if (opts.machine !== undefined) machineOf(release, opts.machine);
  const accel = opts.accel ?? 'tcg';
  if (accel !== 'tcg' && accel !== 'kvm')
    throw new UsageError(`--accel must be tcg or kvm, not '${accel}'`);
  const source = await openInput(file);
  let prediction;
  try {
    prediction = await predictLoad(source, (named) => {
      if (opts.machine === undefined && named === undefined)
        throw new UsageError(`${file} names no machine type: say which with --machine`);
      return PLATFORMS.platform(release, machineOf(release, opts.machine ?? named!), HOSTS[accel]);
    });
  } finally {
    await source.close();
  }
  if (opts.json) out.write(`${JSON.stringify(prediction, null, 2)}\n`);
  else out.write(`${formatPrediction(prediction)}\n`);
  if (prediction.outcome === 'unknown') {
    // Unsupported content: the catalog cannot load sections the destination has; never ok.
    const u = prediction.undescribed!;
    err?.write(
      `vmstate: ${file}: offset 0x${u[0].offset.toString(16)}, ${u[0].section}#${u[0].instance}: ${u[0].why}: cannot predict the load (${u.length} such section(s))\n`,
    );
    return EXIT.badInput;
  }
  return prediction.outcome === 'ok' ? EXIT.ok : EXIT.refused;
}

function machineOf(release: string, machine: string): string {
  const m = PLATFORMS.resolveMachine(release, machine);
  if (!m)
    throw new UsageError(
      `machine type '${machine}' is unknown to the catalog of ${release} (it knows: ${PLATFORMS.machineTypes(release).slice(0, 8).join(', ')}${PLATFORMS.machineTypes(release).length > 8 ? ', ...' : ''})`,
    );
  return m;
}
