import fc from 'fast-check';
import { VMStateError } from '../src/errors';
import {
  NestedScenario,
  arbitraryNestedState,
  arbitraryPageAddress,
} from '../vmstate/x86/kvm/arbitrary';
import {
  INVALID_GPA,
  KVM_STATE_NESTED_EVMCS,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_GIF_SET,
  KVM_STATE_NESTED_GUEST_MODE,
  KVM_STATE_NESTED_KNOWN_FLAGS,
  KVM_STATE_NESTED_MTF_PENDING,
  KVM_STATE_NESTED_RUN_PENDING,
  KVM_STATE_NESTED_SMM_GUEST_MODE,
  KVM_STATE_NESTED_SMM_VMXON,
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
} from '../vmstate/x86/kvm/constants';
import { NestedStateError, NestedStateRule } from '../vmstate/x86/kvm/errors';
import {
  NestedState,
  buildNestedState,
  noNestedGuestState,
  parseNestedState,
} from '../vmstate/x86/kvm/nested-state';

// Pages are 4 KiB: keep fast-check from printing them whole when a property fails.
fc.configureGlobal({ ...fc.readConfigureGlobal(), numRuns: 100, verbose: 0 });

const scenarios: NestedScenario[] = [
  'vmx-none',
  'vmx-root',
  'vmx-root-vmcs',
  'vmx-l2',
  'svm-none',
  'svm-l2',
];

/** Runs f and returns the NestedStateError it throws; any other outcome fails the test. */
function rejection(f: () => unknown): NestedStateError {
  try {
    f();
  } catch (e) {
    if (e instanceof NestedStateError) return e;
    throw new Error(`expected a NestedStateError, got ${String(e)}`);
  }
  throw new Error('expected a NestedStateError, but it was accepted');
}

/** parse either rejects with a NestedStateError or accepts bytes that build back exactly. */
function rejectedOrExact(blob: Uint8Array): 'rejected' | 'accepted' {
  let s: NestedState;
  try {
    s = parseNestedState(blob);
  } catch (e) {
    if (e instanceof NestedStateError) {
      expect(e).toBeInstanceOf(VMStateError);
      expect(e.path.startsWith('kvm_nested_state')).toBe(true);
      expect(Number.isInteger(e.offset) && e.offset >= 0).toBe(true);
      return 'rejected';
    }
    throw e;
  }
  expect(Buffer.from(buildNestedState(s)).equals(Buffer.from(blob))).toBe(true);
  return 'accepted';
}

function withU16(blob: Uint8Array, offset: number, v: number): Uint8Array {
  const b = Uint8Array.from(blob);
  new DataView(b.buffer).setUint16(offset, v, true);
  return b;
}
function withU32(blob: Uint8Array, offset: number, v: number): Uint8Array {
  const b = Uint8Array.from(blob);
  new DataView(b.buffer).setUint32(offset, v, true);
  return b;
}
function withU64(blob: Uint8Array, offset: number, v: bigint): Uint8Array {
  const b = Uint8Array.from(blob);
  new DataView(b.buffer).setBigUint64(offset, v, true);
  return b;
}
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Deep equality of two NestedStates; pages compared as bytes (jest's toEqual is slow on 4 KiB arrays). */
function expectSameState(actual: NestedState, expected: NestedState): void {
  const scalars = (s: NestedState) =>
    Object.fromEntries(
      Object.entries(s).map(([k, v]) => [
        k,
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
      ]),
    );
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  const a = scalars(actual);
  const e = scalars(expected);
  for (const k of Object.keys(e)) {
    if (a[k] !== e[k]) expect([k, a[k]]).toEqual([k, e[k]]);
  }
}

describe('round trip', () => {
  test.each(scenarios)(
    '%s: build then parse gives the state back, parse then build the bytes',
    (scenario) => {
      fc.assert(
        fc.property(arbitraryNestedState([scenario]), (s) => {
          const blob = buildNestedState(s);
          expect(blob.length).toBe(s.size);
          const back = parseNestedState(blob);
          expectSameState(back, s);
          expect(same(buildNestedState(back), blob)).toBe(true);
        }),
        { numRuns: 40 },
      );
    },
  );

  test('the scenarios produce the sizes and formats KVM reports', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(arbitraryNestedState(), (s) => {
        seen.add(`${s.format}/${s.size}`);
      }),
      { numRuns: 200 },
    );
    expect([...seen].sort()).toEqual(['0/128', '0/4224', '0/8320', '1/128', '1/4224']);
  });

  test('parsed pages are copies, not views of the blob', () => {
    const s = fc.sample(arbitraryNestedState(['vmx-l2']), 1)[0];
    const blob = buildNestedState(s);
    const parsed = parseNestedState(blob);
    blob.fill(0xee);
    expect(same(parsed['data.vmx[0].vmcs12'], s['data.vmx[0].vmcs12'])).toBe(true);
    // a Node Buffer too (Buffer#slice shares memory)
    const buf = Buffer.from(buildNestedState(s));
    const fromBuf = parseNestedState(buf);
    buf.fill(0xee);
    expect(same(fromBuf['data.vmx[0].vmcs12'], s['data.vmx[0].vmcs12'])).toBe(true);
    expect(Object.getPrototypeOf(fromBuf['data.vmx[0].vmcs12'])).toBe(Uint8Array.prototype);
  });
});

describe('golden bytes (computed by hand from struct kvm_nested_state)', () => {
  // L2 running under VMX, entry pending, preemption-timer deadline, one current vmcs12.
  const golden = new Uint8Array(4224);
  golden.set([0x03, 0x00]); // flags = GUEST_MODE | RUN_PENDING
  golden.set([0x00, 0x00], 2); // format = VMX
  golden.set([0x80, 0x10, 0x00, 0x00], 4); // size = 4224 = 0x1080
  golden.set([0x00, 0x30, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00], 8); // vmxon_pa = 0x123000
  golden.set([0x00, 0x60, 0x45, 0x00, 0x00, 0x00, 0x00, 0x00], 16); // vmcs12_pa = 0x456000
  golden.set([0x00, 0x00, 0x00, 0x00], 24); // smm.flags = 0, pad = 0
  golden.set([0x01, 0x00, 0x00, 0x00], 28); // hdr.vmx.flags = PREEMPTION_TIMER_DEADLINE
  golden.set([0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01], 32); // deadline
  // bytes 40..127: zero. vmcs12 from 128:
  golden.set([0xd0, 0x7e, 0xe5, 0x11], 128); // revision_id 0x11e57ed0
  golden.set([0x00, 0x00, 0x00, 0x81, 0xff, 0xff, 0xff, 0xff], 128 + 544); // guest_rip
  golden.set([0x40, 0x00, 0x00, 0x00], 128 + 744); // pin_based: activate preemption timer
  golden.set([0x0c, 0x00, 0x00, 0x00], 128 + 812); // vm_exit_reason = HLT

  test('parses to the named values', () => {
    const s = parseNestedState(golden);
    expect(s.flags).toBe(KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_RUN_PENDING);
    expect(s.format).toBe(KVM_STATE_NESTED_FORMAT_VMX);
    expect(s.size).toBe(4224);
    expect(s['hdr.vmx.vmxon_pa']).toBe(0x123000n);
    expect(s['hdr.vmx.vmcs12_pa']).toBe(0x456000n);
    expect(s['hdr.vmx.smm.flags']).toBe(0);
    expect(s['hdr.vmx.flags']).toBe(KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE);
    expect(s['hdr.vmx.preemption_timer_deadline']).toBe(0x0102030405060708n);
    expect(same(s['data.vmx[0].vmcs12'], golden.subarray(128))).toBe(true);
    expect(s['data.vmx[0].shadow_vmcs12'].every((b) => b === 0)).toBe(true);
    expect(s['hdr.svm.vmcb_pa']).toBe(0n);
  });

  test('builds back to the same bytes', () => {
    const s: NestedState = {
      ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_VMX),
      flags: 3,
      size: 4224,
      'hdr.vmx.vmxon_pa': 0x123000n,
      'hdr.vmx.vmcs12_pa': 0x456000n,
      'hdr.vmx.flags': 1,
      'hdr.vmx.preemption_timer_deadline': 0x0102030405060708n,
      'data.vmx[0].vmcs12': golden.slice(128),
    };
    expect(same(buildNestedState(s), golden)).toBe(true);
  });

  test('an SVM vCPU outside L2 is 128 bytes: flags GIF_SET, format 1, size 128, rest zero', () => {
    const blob = buildNestedState(noNestedGuestState(KVM_STATE_NESTED_FORMAT_SVM));
    const expected = new Uint8Array(128);
    expected.set([0x00, 0x01, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00]);
    expect(same(blob, expected)).toBe(true);
  });

  test('a VMX vCPU that never ran VMXON: both addresses all ones', () => {
    const blob = buildNestedState(noNestedGuestState());
    expect(Array.from(blob.subarray(0, 24))).toEqual([
      0, 0, 0, 0, 0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(blob.length).toBe(128);
  });
});

describe('inconsistent headers are rejected with NestedStateError', () => {
  const validBlob = (which: NestedScenario[] = scenarios) =>
    arbitraryNestedState(which).map((s) => ({ s, blob: buildNestedState(s) }));

  test('any other size, with the blob cut or padded to match, breaks the size rule', () => {
    fc.assert(
      fc.property(
        validBlob(),
        fc.oneof(
          fc.constantFrom(0, 8, 127, 128, 129, 4223, 4224, 4225, 8319, 8320, 8321, 12416),
          fc.nat({ max: 13000 }),
        ),
        ({ s, blob }, size) => {
          fc.pre(size !== s.size);
          const resized = new Uint8Array(Math.max(size, 8));
          resized.set(blob.subarray(0, Math.min(blob.length, resized.length)));
          new DataView(resized.buffer).setUint32(4, size, true);
          const e = rejection(() => parseNestedState(resized));
          expect(e.rule).toBe('size');
        },
      ),
    );
  });

  test('a size field that disagrees with the blob length is truncated / trailing', () => {
    fc.assert(
      fc.property(validBlob(), fc.nat({ max: 0xffff_ffff }), ({ s, blob }, size) => {
        fc.pre(size !== s.size);
        const e = rejection(() => parseNestedState(withU32(blob, 4, size)));
        const expected: NestedStateRule =
          size < 128 ? 'size' : size > blob.length ? 'truncated' : 'trailing-bytes';
        expect(e.rule).toBe(expected);
        expect(e.path).toBe('kvm_nested_state > size');
      }),
    );
  });

  test('any other format is rejected (unknown formats by the format rule)', () => {
    fc.assert(
      fc.property(validBlob(), fc.nat({ max: 0xffff }), ({ s, blob }, format) => {
        fc.pre(format !== s.format);
        const e = rejection(() => parseNestedState(withU16(blob, 2, format)));
        if (format > 1) {
          expect(e.rule).toBe('format');
          expect(e.offset).toBe(2);
          expect(e.path).toBe('kvm_nested_state > format');
        }
      }),
    );
  });

  test('any flags value: rejected, or a different valid state that round-trips', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        validBlob(),
        fc.oneof(fc.nat({ max: 0xffff }), fc.nat({ max: 0x1ff })),
        ({ blob }, flags) => {
          if (rejectedOrExact(withU16(blob, 0, flags)) === 'accepted') accepted++;
        },
      ),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(0); // e.g. toggling RUN_PENDING in L2 stays valid
  });

  test('unknown flag bits', () => {
    fc.assert(
      fc.property(validBlob(), fc.integer({ min: 0, max: 15 }), ({ s, blob }, bit) => {
        fc.pre(((1 << bit) & KVM_STATE_NESTED_KNOWN_FLAGS) === 0);
        const e = rejection(() => parseNestedState(withU16(blob, 0, s.flags | (1 << bit))));
        expect(e.rule).toBe('flags');
      }),
    );
  });

  test('RUN_PENDING without GUEST_MODE', () => {
    fc.assert(
      fc.property(validBlob(), ({ s, blob }) => {
        const flags = (s.flags | KVM_STATE_NESTED_RUN_PENDING) & ~KVM_STATE_NESTED_GUEST_MODE;
        expect(rejection(() => parseNestedState(withU16(blob, 0, flags))).rule).toBe('flags');
      }),
    );
  });

  test('GUEST_MODE without a vmcs12 / vmcb12 (size 128)', () => {
    fc.assert(
      fc.property(validBlob(['vmx-root', 'svm-none']), ({ s, blob }) => {
        fc.pre(s['hdr.vmx.smm.flags'] === 0); // else the SMM rule fires first
        const e = rejection(() =>
          parseNestedState(withU16(blob, 0, s.flags | KVM_STATE_NESTED_GUEST_MODE)),
        );
        expect(e.rule).toBe('size');
      }),
    );
  });

  test('an SVM vmcb12 without GUEST_MODE', () => {
    fc.assert(
      fc.property(validBlob(['svm-l2']), ({ s, blob }) => {
        const flags = s.flags & ~(KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_RUN_PENDING);
        expect(rejection(() => parseNestedState(withU16(blob, 0, flags))).rule).toBe('size');
      }),
    );
  });

  test('flags of the other vendor', () => {
    fc.assert(
      fc.property(validBlob(['vmx-root-vmcs', 'vmx-l2']), ({ s, blob }) => {
        expect(
          rejection(() => parseNestedState(withU16(blob, 0, s.flags | KVM_STATE_NESTED_GIF_SET)))
            .rule,
        ).toBe('flags');
      }),
    );
    fc.assert(
      fc.property(
        validBlob(['svm-none', 'svm-l2']),
        fc.constantFrom(KVM_STATE_NESTED_EVMCS, KVM_STATE_NESTED_MTF_PENDING),
        ({ s, blob }, bit) => {
          expect(rejection(() => parseNestedState(withU16(blob, 0, s.flags | bit))).rule).toBe(
            'flags',
          );
        },
      ),
    );
  });

  test('MTF_PENDING outside guest mode', () => {
    fc.assert(
      fc.property(validBlob(['vmx-root-vmcs']), ({ s, blob }) => {
        fc.pre(s['hdr.vmx.smm.flags'] === 0);
        expect(
          rejection(() =>
            parseNestedState(withU16(blob, 0, s.flags | KVM_STATE_NESTED_MTF_PENDING)),
          ).rule,
        ).toBe('flags');
      }),
    );
  });

  test('vmcs12 present while vmxon_pa is -1', () => {
    fc.assert(
      fc.property(validBlob(['vmx-root-vmcs', 'vmx-l2']), ({ blob }) => {
        const e = rejection(() => parseNestedState(withU64(blob, 8, INVALID_GPA)));
        expect(['size', 'flags', 'smm-flags', 'address']).toContain(e.rule);
      }),
    );
    // The plainest case: not in VMX operation, no flags, but 4 KiB of vmcs12 attached.
    const s = { ...noNestedGuestState(), size: 4224 };
    const blob = new Uint8Array(4224);
    blob.set(buildNestedState(noNestedGuestState()));
    new DataView(blob.buffer).setUint32(4, 4224, true);
    const e = rejection(() => parseNestedState(blob));
    expect(e.rule).toBe('size');
    expect(e.message).toMatch(/vmxon_pa is -1/);
    expect(rejection(() => buildNestedState(s)).rule).toBe('size');
  });

  test('a current VMCS address with size 128, and a vmcs12 with no current VMCS', () => {
    fc.assert(
      fc.property(validBlob(['vmx-root']), arbitraryPageAddress(), ({ s, blob }, pa) => {
        fc.pre(pa !== s['hdr.vmx.vmxon_pa']);
        const e = rejection(() => parseNestedState(withU64(blob, 16, pa)));
        expect(e.rule).toBe('size');
        expect(e.path).toBe('kvm_nested_state > hdr.vmx.vmcs12_pa');
      }),
    );
    fc.assert(
      fc.property(validBlob(['vmx-root-vmcs']), ({ s, blob }) => {
        fc.pre(!(s.flags & KVM_STATE_NESTED_EVMCS));
        expect(rejection(() => parseNestedState(withU64(blob, 16, INVALID_GPA))).rule).toBe('size');
      }),
    );
  });

  test('vmcs12_pa equal to vmxon_pa, and unaligned or too-wide addresses', () => {
    fc.assert(
      fc.property(validBlob(['vmx-root-vmcs', 'vmx-l2']), ({ s, blob }) => {
        fc.pre(s['hdr.vmx.vmcs12_pa'] !== INVALID_GPA);
        expect(
          rejection(() => parseNestedState(withU64(blob, 16, s['hdr.vmx.vmxon_pa']))).rule,
        ).toBe('address');
      }),
    );
    fc.assert(
      fc.property(
        validBlob(['vmx-root', 'vmx-root-vmcs', 'vmx-l2', 'svm-l2']),
        fc.oneof(
          fc.bigInt({ min: 1n, max: 0xfffn }),
          fc.bigInt({ min: 1n << 52n, max: INVALID_GPA - 1n }),
        ),
        ({ blob }, bad) => {
          expect(rejection(() => parseNestedState(withU64(blob, 8, bad))).rule).toBe('address');
        },
      ),
    );
  });

  test('SMM flags: unknown bits, guest mode without VMXON, SMM together with guest mode, SMM without VMXON', () => {
    fc.assert(
      fc.property(
        validBlob(['vmx-root', 'vmx-root-vmcs']),
        fc.integer({ min: 2, max: 15 }),
        ({ blob }, bit) => {
          expect(rejection(() => parseNestedState(withU16(blob, 24, 1 << bit))).rule).toBe(
            'smm-flags',
          );
        },
      ),
    );
    fc.assert(
      fc.property(validBlob(['vmx-root', 'vmx-root-vmcs']), ({ blob }) => {
        expect(
          rejection(() => parseNestedState(withU16(blob, 24, KVM_STATE_NESTED_SMM_GUEST_MODE)))
            .rule,
        ).toBe('smm-flags');
      }),
    );
    fc.assert(
      fc.property(
        validBlob(['vmx-l2']),
        fc.constantFrom(
          KVM_STATE_NESTED_SMM_VMXON,
          KVM_STATE_NESTED_SMM_VMXON | KVM_STATE_NESTED_SMM_GUEST_MODE,
        ),
        ({ blob }, smm) => {
          expect(rejection(() => parseNestedState(withU16(blob, 24, smm))).rule).toBe('smm-flags');
        },
      ),
    );
    fc.assert(
      fc.property(validBlob(['vmx-none']), ({ blob }) => {
        expect(
          rejection(() => parseNestedState(withU16(blob, 24, KVM_STATE_NESTED_SMM_VMXON))).rule,
        ).toBe('smm-flags');
      }),
    );
  });

  test('hdr.vmx.flags: unknown bits, deadline outside guest mode, deadline value without its flag', () => {
    fc.assert(
      fc.property(
        validBlob(['vmx-root', 'vmx-root-vmcs', 'vmx-l2']),
        fc.integer({ min: 1, max: 31 }),
        ({ blob }, bit) => {
          expect(rejection(() => parseNestedState(withU32(blob, 28, 2 ** bit))).rule).toBe(
            'vmx-flags',
          );
        },
      ),
    );
    fc.assert(
      fc.property(validBlob(['vmx-root', 'vmx-root-vmcs']), ({ blob }) => {
        expect(
          rejection(() =>
            parseNestedState(withU32(blob, 28, KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE)),
          ).rule,
        ).toBe('vmx-flags');
      }),
    );
    fc.assert(
      fc.property(
        validBlob(['vmx-none', 'vmx-root', 'vmx-root-vmcs', 'vmx-l2']),
        fc.bigInt({ min: 1n, max: INVALID_GPA }),
        ({ s, blob }, deadline) => {
          fc.pre(s['hdr.vmx.flags'] === 0);
          expect(rejection(() => parseNestedState(withU64(blob, 32, deadline))).rule).toBe(
            'vmx-flags',
          );
        },
      ),
    );
  });

  test('vmcs12 / shadow vmcs12 / vmcb12 contents KVM_SET_NESTED_STATE refuses', () => {
    fc.assert(
      fc.property(
        validBlob(['vmx-root-vmcs', 'vmx-l2']),
        fc.nat({ max: 0x7fff_ffff }),
        ({ blob }, rev) => {
          fc.pre(rev !== 0x11e57ed0);
          const e = rejection(() => parseNestedState(withU32(blob, 128, rev)));
          expect(e.rule).toBe('vmcs12');
          expect(e.offset).toBe(128);
        },
      ),
    );
    fc.assert(
      fc.property(validBlob(['vmx-l2']), ({ s, blob }) => {
        fc.pre(s.size === 8320);
        // the shadow copy must carry the shadow bit
        expect(rejection(() => parseNestedState(withU32(blob, 4224, 0x11e57ed0))).rule).toBe(
          'shadow-vmcs12',
        );
      }),
    );
    fc.assert(
      fc.property(
        validBlob(['svm-l2']),
        fc.constantFrom(
          [128 + 0x58, 4, 0n], // asid 0
          [128 + 0x10, 4, 0n], // no VMRUN intercept
          [128 + 0x4d0, 8, 0n], // EFER without SVME
          [128 + 0x558, 8, 0x11n], // CR0 without PG
          [128 + 0x570, 8, 0x20002n], // RFLAGS.VM
          [128 + 0x568, 8, 1n << 40n], // DR6 high bits
        ) as fc.Arbitrary<[number, number, bigint]>,
        ({ blob }, [offset, width, value]) => {
          const bad =
            width === 4 ? withU32(blob, offset, Number(value)) : withU64(blob, offset, value);
          const e = rejection(() => parseNestedState(bad));
          expect(e.rule).toBe('vmcb12');
          expect(e.offset).toBe(offset);
          expect(e.path.startsWith('kvm_nested_state > data.svm[0].vmcb12 > ')).toBe(true);
        },
      ),
    );
  });

  test('non-zero reserved header bytes', () => {
    fc.assert(
      fc.property(
        validBlob(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 16, max: 127 }),
        ({ s, blob }, v, at) => {
          const vmx = s.format === KVM_STATE_NESTED_FORMAT_VMX;
          fc.pre(!vmx || at >= 40 || (at >= 26 && at < 28));
          const b = Uint8Array.from(blob);
          b[at] = v;
          expect(rejection(() => parseNestedState(b)).rule).toBe('reserved');
        },
      ),
    );
  });

  test('every strict prefix is truncated, anything appended is trailing', () => {
    fc.assert(
      fc.property(validBlob(), fc.nat(), ({ blob }, cut) => {
        const e = rejection(() => parseNestedState(blob.subarray(0, cut % blob.length)));
        expect(e.rule).toBe('truncated');
      }),
    );
    fc.assert(
      fc.property(
        validBlob(),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        ({ s, blob }, extra) => {
          const longer = new Uint8Array(blob.length + extra.length);
          longer.set(blob);
          longer.set(extra, blob.length);
          const e = rejection(() => parseNestedState(longer));
          expect(e.rule).toBe('trailing-bytes');
          expect(e.offset).toBe(s.size);
        },
      ),
    );
  });

  test('random byte damage anywhere is a NestedStateError or another exact valid blob', () => {
    fc.assert(
      fc.property(
        validBlob(),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        ({ blob }, edits) => {
          const b = Uint8Array.from(blob);
          for (const [i, v] of edits) b[i % Math.min(b.length, 160)] = v; // mostly the header
          rejectedOrExact(b);
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        rejectedOrExact(b);
      }),
      { numRuns: 300 },
    );
  });

  test('offsets are absolute when the blob sits inside a larger file', () => {
    const blob = withU16(buildNestedState(noNestedGuestState()), 2, 7);
    const e = rejection(() => parseNestedState(blob, 0x1000));
    expect(e.offset).toBe(0x1002);
    expect(e.code).toBe('nested-state');
  });
});

describe('buildNestedState refuses what it cannot write exactly', () => {
  test('wrong types and ranges', () => {
    const base = noNestedGuestState();
    const cases: [Partial<Record<keyof NestedState, unknown>>, NestedStateRule][] = [
      [{ flags: -1 }, 'value'],
      [{ flags: 0x10000 }, 'value'],
      [{ size: 1.5 }, 'value'],
      [{ 'hdr.vmx.vmxon_pa': 5 }, 'value'],
      [{ 'hdr.vmx.vmxon_pa': -1n }, 'value'],
      [{ 'hdr.vmx.vmcs12_pa': 1n << 64n }, 'value'],
      [{ 'data.vmx[0].vmcs12': new Uint8Array(100) }, 'page-size'],
      [{ 'data.svm[0].vmcb12': [0] }, 'page-size'],
    ];
    for (const [patch, rule] of cases) {
      expect(rejection(() => buildNestedState({ ...base, ...patch } as NestedState)).rule).toBe(
        rule,
      );
    }
  });

  test('keys of the other format, and pages that size leaves out', () => {
    fc.assert(
      fc.property(arbitraryNestedState(['vmx-none', 'vmx-root', 'vmx-root-vmcs']), (s) => {
        expect(rejection(() => buildNestedState({ ...s, 'hdr.svm.vmcb_pa': 0x1000n })).rule).toBe(
          'value',
        );
        const shadow = new Uint8Array(4096);
        shadow[9] = 1;
        expect(
          rejection(() => buildNestedState({ ...s, 'data.vmx[0].shadow_vmcs12': shadow })).rule,
        ).toBe('size');
      }),
      { numRuns: 30 },
    );
    fc.assert(
      fc.property(arbitraryNestedState(['svm-none', 'svm-l2']), (s) => {
        expect(
          rejection(() => buildNestedState({ ...s, 'hdr.vmx.vmxon_pa': INVALID_GPA })).rule,
        ).toBe('value');
      }),
      { numRuns: 30 },
    );
  });

  test('never a bare exception, whatever the record holds', () => {
    const anyValue = fc.oneof(
      fc.integer(),
      fc.bigInt(),
      fc.constant(undefined),
      fc.string(),
      fc.uint8Array({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(
        arbitraryNestedState(),
        fc.constantFrom<keyof NestedState>(
          'flags',
          'format',
          'size',
          'hdr.vmx.vmxon_pa',
          'hdr.vmx.smm.flags',
          'data.vmx[0].vmcs12',
        ),
        anyValue,
        (s, key, v) => {
          try {
            const blob = buildNestedState({ ...s, [key]: v } as NestedState);
            expectSameState(parseNestedState(blob), { ...s, [key]: v } as NestedState);
          } catch (e) {
            expect(e).toBeInstanceOf(NestedStateError);
          }
        },
      ),
    );
  });

  test('smm flags in the KVM GET shape: SMM_VMXON with or without SMM_GUEST_MODE outside guest mode', () => {
    const s: NestedState = {
      ...noNestedGuestState(),
      'hdr.vmx.vmxon_pa': 0x5000n,
      'hdr.vmx.smm.flags': KVM_STATE_NESTED_SMM_VMXON,
    };
    expectSameState(parseNestedState(buildNestedState(s)), s);
  });
});
