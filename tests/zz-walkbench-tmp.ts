import { readStreamContents } from '../src/stream/collect';
import { fileSource } from '../src/stream/source';
import { Limits } from '../src/stream/constants';
const F = process.argv[2];
(async () => {
  for (let i = 0; i < 3; i++) {
    for (const kb of [128, 256, 512, 1024, 4096]) {
      (Limits as { chunkBytes: number }).chunkBytes = kb * 1024;
      const t = process.cpuUsage();
      const s = await fileSource(F);
      await readStreamContents(s, {});
      await s.close();
      const u = process.cpuUsage(t);
      console.log(kb, (u.user / 1e6).toFixed(3), (u.system / 1e6).toFixed(3));
    }
  }
})();
