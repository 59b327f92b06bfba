import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BlockWriter } from '../src/analyze/block-writer';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-block-writer-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const filled = (byte: number, len: number) => new Uint8Array(len).fill(byte);

test('queued writes land in the order given; pageAt sees the newest queued bytes', async () => {
  const file = path.join(dir, 'a');
  fs.writeFileSync(file, new Uint8Array(128));
  const fd = fs.openSync(file, 'r+');
  try {
    const w = new BlockWriter(
      () => fd,
      () => file,
      32,
      64,
      0,
    );
    // The same 16 bytes three times, then a neighbour: the last contents must win.
    for (const v of [1, 2, 3]) {
      w.add('a', filled(v, 16), 16);
      w.submit();
    }
    // Scattered pieces share slots: 8 of 4 bytes, every other 4 bytes from 32.
    for (let i = 0; i < 8; i++) w.add('a', filled(9, 4), 32 + 8 * i);
    const page = new Uint8Array(16);
    w.pageAt('a', 16, 16, page);
    expect([...page]).toEqual(new Array(16).fill(3));
    await w.drain();
    await w.idle();
    const got = fs.readFileSync(file);
    expect([...got.subarray(16, 32)]).toEqual(new Array(16).fill(3));
    for (let i = 0; i < 8; i++) {
      expect([...got.subarray(32 + 8 * i, 36 + 8 * i)]).toEqual([9, 9, 9, 9]);
      expect([...got.subarray(36 + 8 * i, 40 + 8 * i)]).toEqual([0, 0, 0, 0]);
    }
    expect(got[0]).toBe(0);
  } finally {
    fs.closeSync(fd);
  }
});

test('a slot of many scattered pieces is written in place, in order with the queued ones', async () => {
  const file = path.join(dir, 'scattered');
  fs.writeFileSync(file, new Uint8Array(512));
  const fd = fs.openSync(file, 'r+');
  try {
    const w = new BlockWriter(
      () => fd,
      () => file,
      256,
      1,
      0,
    );
    w.add('s', filled(1, 200), 0); // one segment: the thread pool
    w.submit();
    for (let i = 0; i < 40; i++) w.add('s', filled(2, 4), 8 * i); // 40 segments over it
    w.submit();
    w.add('s', filled(3, 8), 0);
    await w.drain();
    await w.idle();
    const got = fs.readFileSync(file);
    expect([...got.subarray(0, 8)]).toEqual(new Array(8).fill(3));
    for (let i = 1; i < 25; i++) {
      expect([...got.subarray(8 * i, 8 * i + 4)]).toEqual([2, 2, 2, 2]);
      expect(got[8 * i + 4]).toBe(1);
    }
    expect([...got.subarray(320, 330)]).toEqual(new Array(10).fill(0));
  } finally {
    fs.closeSync(fd);
  }
});

test('a refused write comes back with its call and file (the CLI prints it in one line, exit 2)', async () => {
  const file = path.join(dir, 'ro');
  fs.writeFileSync(file, new Uint8Array(64));
  const fd = fs.openSync(file, 'r'); // not writable: EBADF
  try {
    const w = new BlockWriter(
      () => fd,
      () => file,
      32,
      64,
      0,
    );
    w.add('ro', filled(1, 16), 0);
    await expect(w.idle()).rejects.toMatchObject({ code: 'EBADF', syscall: 'write', path: file });
    expect(() => w.add('ro', filled(1, 16), 0)).toThrow(/EBADF/);
  } finally {
    fs.closeSync(fd);
  }
});

test('strided runs go straight only when nothing is queued, so the last contents win; more than IOV_MAX pages', async () => {
  const file = path.join(dir, 'strided');
  const pageSize = 16;
  const pages = 2500; // more than one writev (1024 buffers) takes
  fs.writeFileSync(file, new Uint8Array(pages * pageSize));
  const fd = fs.openSync(file, 'r+');
  try {
    // Every write in the thread pool (asyncAfter 0): the queue is busy after the first add.
    const w = new BlockWriter(
      () => fd,
      () => file,
      64,
      1,
      0,
    );
    // Raw records: an 8-byte header, then the page (page i filled with i % 251 + 1).
    const stride = 8 + pageSize;
    const records = new Uint8Array(pages * stride).fill(0xee);
    for (let i = 0; i < pages; i++)
      records.fill((i % 251) + 1, i * stride + 8, i * stride + 8 + pageSize);
    // Page 3 queued first; the run that covers it again is refused while it is queued.
    w.add('s', filled(0xaa, pageSize), 3 * pageSize);
    w.submit();
    expect(w.writeStrided('s', records, 8, stride, pageSize, pages, 0)).toBe(false);
    await w.drain(); // waits for the queue to empty after a refusal
    expect(w.writeStrided('s', records, 8, stride, pageSize, pages, 0)).toBe(true);
    // A page gathered after the run is written after it.
    w.add('s', filled(0xbb, pageSize), 5 * pageSize);
    await w.idle();
    const got = fs.readFileSync(file);
    for (let i = 0; i < pages; i++) {
      const want = i === 5 ? 0xbb : (i % 251) + 1;
      expect({ i, page: [...got.subarray(i * pageSize, (i + 1) * pageSize)] }).toEqual({
        i,
        page: new Array(pageSize).fill(want),
      });
    }
  } finally {
    fs.closeSync(fd);
  }
});
