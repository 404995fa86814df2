/**
 * The instructions of the ready-made test programs, built with `@bpfjs/asm`. Pure data: no kernel
 * access. The fixtures in `fixtures.ts` load them.
 *
 * @module
 */
import { type AsmItem, asm, Helper, type MapFdLike, R0, R1, R2, R3, R6, R7, R10 } from '@bpfjs/asm';
import { BPF_DROP, BPF_OK, SK_DROP, SK_PASS } from '@bpfjs/uapi/linux/bpf';
import { TestkitTypeError } from './errors.js';

/** What a flow dissector program returns: `'ok'` (BPF_OK, dissection done) or `'drop'` (BPF_DROP). */
export type FlowDissectorVerdict = 'ok' | 'drop';

/** A flow dissector program that returns `BPF_OK` (or `BPF_DROP`) without touching the packet. */
export function flowDissectorInstructions(verdict: FlowDissectorVerdict = 'ok'): AsmItem[] {
  if (verdict !== 'ok' && verdict !== 'drop') {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `verdict must be 'ok' or 'drop', got ${String(verdict)}`,
    );
  }
  return [asm.mov64Imm(R0, verdict === 'ok' ? BPF_OK : BPF_DROP), asm.exit()];
}

/**
 * The verdict of an sk_lookup program: `'pass'` (SK_PASS: let the normal lookup proceed), `'drop'`
 * (SK_DROP: refuse the connection/packet), or `{ redirect: sockmap, key? }` (a `BpfMap`, an `Fd` or
 * an fd number): assign the socket
 * held at `key` (default 0) of a SOCKMAP/SOCKHASH with `bpf_sk_assign` and pass; drop if the slot
 * is empty or the assignment fails.
 */
export type SkLookupVerdict =
  | 'pass'
  | 'drop'
  | { readonly redirect: MapFdLike | { readonly fd: { readonly fd: number } }; readonly key?: number };

// A BpfMap owns its Fd in `.fd`; an Fd or a number is used as it is.
function mapFdOf(m: MapFdLike | { readonly fd: { readonly fd: number } }): MapFdLike {
  return typeof m === 'object' && m !== null && typeof m.fd === 'object' ? m.fd : (m as MapFdLike);
}

/** The instructions of an sk_lookup program with the given verdict (see {@link SkLookupVerdict}). */
export function skLookupInstructions(verdict: SkLookupVerdict = 'pass'): AsmItem[] {
  if (verdict === 'pass') return [asm.mov64Imm(R0, SK_PASS), asm.exit()];
  if (verdict === 'drop') return [asm.mov64Imm(R0, SK_DROP), asm.exit()];
  if (typeof verdict !== 'object' || verdict === null || !('redirect' in verdict)) {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `verdict must be 'pass', 'drop' or { redirect: sockmap }, got ${JSON.stringify(verdict)}`,
    );
  }
  const key = verdict.key ?? 0;
  if (!Number.isInteger(key) || key < 0 || key > 0xffff_ffff) {
    throw new TestkitTypeError('ERR_OUT_OF_RANGE', `redirect key must be a u32, got ${String(key)}`);
  }
  // C equivalent (kernel selftest test_sk_lookup.c):
  //   sk = bpf_map_lookup_elem(&sockmap, &key); if (!sk) return SK_DROP;
  //   err = bpf_sk_assign(ctx, sk, 0); bpf_sk_release(sk); return err ? SK_DROP : SK_PASS;
  return [
    asm.mov64Reg(R6, R1), // r6 = ctx
    asm.stW(R10, -4, key | 0), // u32 key on the stack
    asm.ldMapFd(R1, mapFdOf(verdict.redirect)),
    asm.mov64Reg(R2, R10),
    asm.add64Imm(R2, -4),
    asm.call(Helper.map_lookup_elem),
    asm.jeqImm(R0, 0, 'drop'),
    asm.mov64Reg(R7, R0), // r7 = sk (a reference we must release)
    asm.mov64Reg(R1, R6),
    asm.mov64Reg(R2, R7),
    asm.mov64Imm(R3, 0),
    asm.call(Helper.sk_assign),
    asm.mov64Reg(R6, R0), // r6 = err
    asm.mov64Reg(R1, R7),
    asm.call(Helper.sk_release),
    asm.jneImm(R6, 0, 'drop'),
    asm.mov64Imm(R0, SK_PASS),
    asm.exit(),
    asm.label('drop'),
    asm.mov64Imm(R0, SK_DROP),
    asm.exit(),
  ];
}

/**
 * A socket filter that keeps `snapLength` bytes of every packet (default: all, `0xffffffff`);
 * 0 drops every packet.
 */
export function socketFilterInstructions(snapLength = 0xffff_ffff): AsmItem[] {
  if (!Number.isInteger(snapLength) || snapLength < 0 || snapLength > 0xffff_ffff) {
    throw new TestkitTypeError('ERR_OUT_OF_RANGE', `snapLength must be a u32, got ${String(snapLength)}`);
  }
  return [asm.mov32Imm(R0, snapLength | 0), asm.exit()];
}
