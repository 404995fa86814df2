/**
 * Values of `.kconfig` externs, as libbpf fills them: `LINUX_KERNEL_VERSION` from the running
 * kernel's release (`KERNEL_VERSION(a, b, c)`, c capped at 255), `CONFIG_*` from
 * `/proc/config.gz` or `/boot/config-$(uname -r)` (`y`/`n`/`m`, numbers, quoted strings).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { objectError } from './errors.js';
import type { KconfigExtern } from './object.js';

/** `KERNEL_VERSION()` of a release string such as `6.18.44-foo`. */
export function kernelVersionCode(rel: string = release()): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (m === null) throw objectError(`cannot read a kernel version from '${rel}'`);
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(255, Number(m[3] ?? 0));
}

/** The running kernel's configuration (`CONFIG_X` → raw value), or undefined if none is readable. */
export function readKernelConfig(): Map<string, string> | undefined {
  let text: string | undefined;
  if (existsSync('/proc/config.gz')) text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  else {
    const boot = `/boot/config-${release()}`;
    if (existsSync(boot)) text = readFileSync(boot, 'utf8');
  }
  if (text === undefined) return undefined;
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

function writeInt(buf: Uint8Array, e: KconfigExtern, value: bigint): void {
  const bits = BigInt(e.size * 8);
  const min = e.signed ? -(1n << (bits - 1n)) : 0n;
  const max = e.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (value < min || value > max) {
    throw objectError(`kconfig extern '${e.name}': value ${value} does not fit ${e.size} bytes`, {
      symbol: e.name,
    });
  }
  let u = BigInt.asUintN(e.size * 8, value);
  for (let i = 0; i < e.size; i++) {
    buf[e.offset + i] = Number(u & 0xffn);
    u >>= 8n;
  }
}

/**
 * Fills the `.kconfig` map value for `externs`.
 * @throws BpfObjectError naming the extern: a non-weak value that is not found, a value of the
 *   wrong kind (`m` for a bool, a string for an integer), or one out of range.
 */
export function kconfigValues(externs: readonly KconfigExtern[], size: number): Uint8Array {
  const buf = new Uint8Array(size);
  let config: Map<string, string> | undefined | null = null;
  for (const e of externs) {
    const where = { section: '.kconfig', symbol: e.name };
    if (e.name === 'LINUX_KERNEL_VERSION') {
      if (e.kind !== 'int') throw objectError(`kconfig extern '${e.name}' must be an integer`, where);
      writeInt(buf, e, BigInt(kernelVersionCode()));
      continue;
    }
    if (!e.name.startsWith('CONFIG_')) {
      if (e.weak) continue;
      throw objectError(
        `kconfig extern '${e.name}' is not a value the loader knows (LINUX_KERNEL_VERSION, CONFIG_*)`,
        where,
      );
    }
    if (config === null) config = readKernelConfig();
    const raw = config?.get(e.name);
    if (raw === undefined) {
      if (e.weak) continue;
      throw objectError(
        config === undefined
          ? `kconfig extern '${e.name}': no kernel configuration to read (/proc/config.gz, /boot/config-${release()})`
          : `kconfig extern '${e.name}': value not found in the kernel configuration`,
        where,
      );
    }
    if (raw === 'y' || raw === 'n' || raw === 'm') {
      if (e.kind === 'bool') {
        if (raw === 'm') throw objectError(`kconfig extern '${e.name}': value 'm' for a bool`, where);
        buf[e.offset] = raw === 'y' ? 1 : 0;
      } else if (e.kind === 'tristate') {
        writeInt(buf, e, raw === 'y' ? 1n : raw === 'm' ? 2n : 0n);
      } else if (e.kind === 'char') {
        buf[e.offset] = raw.charCodeAt(0);
      } else {
        throw objectError(`kconfig extern '${e.name}': value '${raw}' for a ${e.kind}`, where);
      }
    } else if (raw.startsWith('"')) {
      if (e.kind !== 'chars')
        throw objectError(`kconfig extern '${e.name}': a string value for a ${e.kind}`, where);
      const text = Buffer.from(JSON.parse(raw) as string, 'utf8').subarray(0, e.size - 1);
      buf.set(text, e.offset);
    } else {
      if (e.kind !== 'int' && e.kind !== 'char')
        throw objectError(`kconfig extern '${e.name}': a number for a ${e.kind}`, where);
      let n: bigint;
      try {
        n = BigInt(raw);
      } catch {
        throw objectError(`kconfig extern '${e.name}': '${raw}' is not a number`, where);
      }
      writeInt(buf, e, n);
    }
  }
  return buf;
}
