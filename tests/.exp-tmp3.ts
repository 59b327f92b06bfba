import * as fs from 'node:fs';
import { captureStreamDetailed, incomingFromFile, type RealRelease } from './support/qemu';
import { brokenStreams } from './support/broken-streams';
import { predictLoad } from '../src/predict/predict';
import { PLATFORMS } from '../vmstate/platforms';
async function main() {
  const cap = await captureStreamDetailed({ release: '7.2', machine: 'pc', out: '/tmp/predict-exp/base.mig' });
  const bytes = fs.readFileSync(cap.path);
  for (const b of await brokenStreams(bytes)) {
    const f = `/tmp/predict-exp/broken.mig`;
    fs.writeFileSync(f, b.bytes);
    const p = await predictLoad(b.bytes, PLATFORMS.platform('7.2', 'pc-i440fx-7.2'));
    console.log('##', b.name, '=> predicted', p.outcome, p.refusal?.section, JSON.stringify(p.refusal?.lines));
    for (const rel of (process.argv[2] ?? '7.2').split(',') as RealRelease[]) {
      const r = await incomingFromFile(f, { release: rel, machine: 'pc-i440fx-7.2' === 'x' ? 'pc' : rel === '7.2' ? 'pc' : 'pc-q35-5.2' });
      console.log('  ', rel, r.ok ? 'OK' : JSON.stringify(r.error));
      if (r.ok) await r.vm.close();
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
