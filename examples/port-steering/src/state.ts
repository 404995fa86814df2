/**
 * The steering state: which (protocol, port range) goes to which label, and which socket serves a
 * label. It lives in the three pinned maps of `steering.bpf.c`, so every process that opens the pin
 * directory (the service, its successor after a restart, the CLI) sees and edits the same state.
 */
import { join } from 'node:path';
import { BpfMap, type FdSource, type FdValue } from '@bpfjs/map';
import type { Binding, Label } from './steering.skel.js';

/** `IPPROTO_TCP` / `IPPROTO_UDP`, the values `bpf_sk_lookup.protocol` carries. */
export const PROTOCOLS = { tcp: 6, udp: 17 } as const;
/** A protocol by name. */
export type Protocol = keyof typeof PROTOCOLS;

/** A label names a destination (a service); the C side keeps 15 bytes plus the NUL. */
export const LABEL_MAX = 15;

/** One row of {@link SteeringState.list}: a port range of a protocol bound to a label. */
export interface BindingRow {
  readonly label: string;
  readonly protocol: Protocol;
  readonly first: number;
  readonly last: number;
  /** Whether a socket is registered for the label (else its connections are not steered). */
  readonly registered: boolean;
}

/** The pinned maps, typed as the skeleton types them. */
export interface SteeringMaps {
  readonly bindings: BpfMap<Binding, Label>;
  readonly sockets: BpfMap<Label, FdValue>;
  readonly metrics: BpfMap<number, bigint[]>;
}

/** Counters summed over CPUs (pinned: they survive upgrades and restarts). */
export interface Metrics {
  readonly steered: bigint;
  readonly noSocket: bigint;
  readonly assignFailed: bigint;
}

/** `struct label` as bytes: the name, NUL-padded to 16 bytes. */
const LABEL_CODEC = {
  size: LABEL_MAX + 1,
  encode: (l: Label): Uint8Array => {
    const b = new Uint8Array(LABEL_MAX + 1);
    b.set(Buffer.from(labelName(l)));
    return b;
  },
  decode: (b: Uint8Array): Label => ({ name: Buffer.from(b).toString('utf8').replace(/\0.*$/s, '') }),
};

const swap16 = (n: number) => ((n & 0xff) << 8) | (n >> 8);

/**
 * A port range as the prefixes that cover it exactly (a range of 2^k ports aligned on 2^k is one
 * prefix of 16 - k bits): `[8000, 8099]` → 8000/12, 8016/11, 8048/12, 8064/11, 8096/14.
 */
export function rangePrefixes(first: number, last: number): { port: number; bits: number }[] {
  const out: { port: number; bits: number }[] = [];
  let port = first;
  while (port <= last) {
    let size = port === 0 ? 1 << 16 : port & -port;
    while (port + size - 1 > last) size >>= 1;
    out.push({ port, bits: 16 - Math.log2(size) });
    port += size;
  }
  return out;
}

function checkRange(first: number, last: number): void {
  for (const p of [first, last]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`port ${p} is not in 1..65535`);
  }
  if (first > last) throw new RangeError(`port range ${first}-${last} is empty`);
}

function checkLabel(label: string): Label {
  if (typeof label !== 'string' || !/^[\w.-]+$/.test(label) || Buffer.byteLength(label) > LABEL_MAX) {
    throw new RangeError(`label ${JSON.stringify(label)} must be 1..${LABEL_MAX} of [A-Za-z0-9_.-]`);
  }
  return { name: label };
}

const protocolName = (n: number): Protocol => (n === PROTOCOLS.udp ? 'udp' : 'tcp');
const labelName = (l: Label): string =>
  typeof l.name === 'string' ? l.name : String.fromCharCode(...l.name);

/** Reads and edits the steering maps. Closing it closes only maps it opened itself. */
export class SteeringState implements Disposable {
  readonly #maps: SteeringMaps;
  readonly #owned: boolean;

  /** Wraps maps someone else owns (the service's loaded skeleton). */
  constructor(maps: SteeringMaps, owned = false) {
    this.#maps = maps;
    this.#owned = owned;
  }

  /**
   * Opens the maps pinned in `pinDir` by the program's loader (`bindings`, `sockets`, `metrics`),
   * typed by their BTF.
   * @throws BpfError `ENOENT` when the service never ran with this pin directory.
   */
  static fromPins(pinDir: string): SteeringState {
    const opened: BpfMap<unknown, unknown>[] = [];
    try {
      const open = <K, V>(name: string, options: Parameters<typeof BpfMap.fromPin>[1]) => {
        const map = BpfMap.fromPin(join(pinDir, name), options) as unknown as BpfMap<K, V>;
        opened.push(map as BpfMap<unknown, unknown>);
        return map;
      };
      return new SteeringState(
        {
          bindings: open<Binding, Label>('bindings', { key: 'btf', value: 'btf' }),
          // The loader creates sockhashes without BTF (the kernel refuses BTF for sock maps before
          // 5.x), so the label key gets its codec here: the C struct label, a NUL-padded string.
          sockets: open<Label, FdValue>('sockets', { key: LABEL_CODEC, value: 'fd' }),
          metrics: open<number, bigint[]>('metrics', { key: 'u32', value: 'btf' }),
        },
        true,
      );
    } catch (e) {
      for (const m of opened) m.close();
      throw e;
    }
  }

  /**
   * Steers `protocol` connections to ports `first..last` to `label`, replacing what was bound there.
   * No port of the range is unbound at any moment: binding again what is bound (a restarted
   * service re-applying its configuration) changes nothing a connection could see.
   */
  bind(label: string, protocol: Protocol, first: number, last = first): void {
    this.#rebind(protocol, first, last, checkLabel(label));
  }

  /**
   * Removes the bindings of `protocol` on ports `first..last`; bindings that reach outside the range
   * keep their ports outside it. Returns whether anything was bound there.
   */
  unbind(protocol: Protocol, first: number, last = first): boolean {
    return this.#rebind(protocol, first, last, undefined);
  }

  // The order keeps every lookup answered: first the parts of overlapping bindings outside the range
  // and the range's own prefixes are written (the trie's longest match prefers them to the old,
  // wider blocks), then the old blocks no longer wanted are deleted.
  #rebind(protocol: Protocol, first: number, last: number, label: Label | undefined): boolean {
    checkRange(first, last);
    const stale: Binding[] = [];
    const wanted = new Set<string>();
    const write = (port: number, bits: number, value: Label) => {
      const key = this.#key(protocol, port, bits);
      wanted.add(`${key.prefixlen}/${key.port}`);
      this.#maps.bindings.set(key, value);
    };
    for (const [key, value] of [...this.#maps.bindings.entries()]) {
      if (key.protocol !== PROTOCOLS[protocol]) continue;
      const start = swap16(key.port);
      const end = start + 2 ** (32 - key.prefixlen) - 1;
      if (end < first || start > last) continue;
      stale.push(key);
      for (const [a, b] of [
        [start, first - 1],
        [last + 1, end],
      ] as const) {
        if (a <= b) for (const p of rangePrefixes(a, b)) write(p.port, p.bits, value);
      }
    }
    if (label !== undefined) for (const p of rangePrefixes(first, last)) write(p.port, p.bits, label);
    for (const key of stale) if (!wanted.has(`${key.prefixlen}/${key.port}`)) this.#maps.bindings.delete(key);
    return stale.length > 0;
  }

  /** Registers the socket that serves `label` (a listening TCP socket or a bound UDP socket). */
  register(label: string, socket: FdSource): void {
    this.#maps.sockets.set(checkLabel(label), socket);
  }

  /** Unregisters the socket of `label`; returns whether one was registered. */
  unregister(label: string): boolean {
    return this.#maps.sockets.delete(checkLabel(label));
  }

  /** The bindings, adjacent prefixes of one label merged into ranges, sorted by protocol and port. */
  list(): BindingRow[] {
    const blocks = [...this.#maps.bindings.entries()]
      .map(([key, value]) => {
        const first = swap16(key.port);
        return {
          label: labelName(value),
          protocol: protocolName(key.protocol),
          first,
          last: first + 2 ** (32 - key.prefixlen) - 1,
        };
      })
      .sort((a, b) => a.protocol.localeCompare(b.protocol) || a.first - b.first);
    const rows: { label: string; protocol: Protocol; first: number; last: number }[] = [];
    for (const b of blocks) {
      const prev = rows.at(-1);
      if (prev && prev.protocol === b.protocol && prev.label === b.label && prev.last + 1 === b.first)
        prev.last = b.last;
      else rows.push({ ...b });
    }
    return rows.map((r) => ({ ...r, registered: this.#maps.sockets.has({ name: r.label }) }));
  }

  /** The pinned counters, summed over CPUs. */
  metrics(): Metrics {
    const sum = (i: number) => (this.#maps.metrics.get(i) ?? []).reduce((a, b) => a + b, 0n);
    return { steered: sum(0), noSocket: sum(1), assignFailed: sum(2) };
  }

  /** Closes the maps this state opened (from pins); a no-op for maps it was given. */
  close(): void {
    if (!this.#owned) return;
    this.#maps.bindings.close();
    this.#maps.sockets.close();
    this.#maps.metrics.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #key(protocol: Protocol, port: number, bits: number): Binding {
    return { prefixlen: 16 + bits, protocol: PROTOCOLS[protocol], pad: 0, port: swap16(port) };
  }
}
