/**
 * Test helper: the libbpf oracle. Loads an object with the system's libbpf (a C harness built
 * here with `cc ... -lbpf`) and with bpfjs, and describes what the kernel ended up with for both
 * in the same normalised shape: each program's type and translated instructions (map ids replaced
 * by map names), each map's type, sizes, flags, max entries and BTF key/value type names.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Program } from '@bpfjs/link';
import { mapGetInfo, objGet, objGetInfoByFd, progGetInfo, Struct, withFdById } from '@bpfjs/sys';
import { BpfProgInfo } from '@bpfjs/uapi';
import type { Collection } from '../index.js';
import { CACHE_DIR, TEST_PROGS } from './compile.js';

const HARNESS_SRC = join(TEST_PROGS, '../src/test/libbpf-harness.c');

/** Builds the libbpf harness (cached by source hash) and returns its path. */
export function harness(): string {
  const src = readFileSync(HARNESS_SRC);
  const out = join(
    CACHE_DIR,
    `libbpf-harness-${createHash('sha256').update(src).digest('hex').slice(0, 16)}`,
  );
  if (!existsSync(out)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    execFileSync('cc', ['-O2', '-o', `${out}.${process.pid}`, HARNESS_SRC, '-lbpf'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    renameSync(`${out}.${process.pid}`, out);
  }
  return out;
}

/** A program as the kernel holds it, normalised for comparison. */
export interface KernelProgram {
  name: string;
  type: number;
  /** One line per instruction: hex, with `map:<name>` for map references. */
  xlated: string[];
}

/** A map as the kernel holds it. */
export interface KernelMap {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfKey: string;
  btfValue: string;
}

function xlatedInsns(fd: number): Uint8Array {
  const s = new Struct(BpfProgInfo);
  objGetInfoByFd(fd, s.bytes);
  const len = s.getNumber('xlated_prog_len');
  const buf = new Uint8Array(new ArrayBuffer(len));
  s.clear();
  s.set('xlated_prog_len', len).setPointer('xlated_prog_insns', buf);
  objGetInfoByFd(fd, s.bytes);
  return buf;
}

const mapNames = new Map<number, string>();
function mapNameById(id: number): string {
  let n = mapNames.get(id);
  if (n === undefined) {
    n = withFdById('map', id, (fd) => mapGetInfo(fd).name);
    mapNames.set(id, n);
  }
  return n;
}

/** The translated instructions of a program, map ids replaced by map names. */
export function normalisedXlated(fd: number): string[] {
  const b = xlatedInsns(fd);
  const v = new DataView(b.buffer);
  const out: string[] = [];
  for (let i = 0; i < b.byteLength / 8; i++) {
    const code = b[i * 8]!;
    const src = b[i * 8 + 1]! >> 4;
    if (code === 0x18 && (src === 1 || src === 2)) {
      const id = v.getInt32(i * 8 + 4, true);
      const head = Buffer.from(b.subarray(i * 8, i * 8 + 4)).toString('hex');
      out.push(`${head} map:${mapNameById(id)}`);
      out.push(Buffer.from(b.subarray(i * 8 + 8, i * 8 + 16)).toString('hex'));
      i++;
      continue;
    }
    out.push(Buffer.from(b.subarray(i * 8, i * 8 + 8)).toString('hex'));
  }
  return out;
}

function btfTypeName(btfId: number, typeId: number): string {
  if (btfId === 0 || typeId === 0) return '';
  const raw = execFileSync('bpftool', ['btf', 'dump', 'id', String(btfId), '-j'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const types = (JSON.parse(raw) as { types: { id: number; kind: string; name: string; type_id?: number }[] })
    .types;
  const t = types.find((x) => x.id === typeId);
  return t === undefined ? `?${typeId}` : `${t.kind} ${t.name}`;
}

function describeMap(name: string, fd: number): KernelMap {
  const info = mapGetInfo(fd);
  return {
    name: info.name || name,
    type: info.type,
    keySize: info.keySize,
    valueSize: info.valueSize,
    maxEntries: info.maxEntries,
    flags: info.flags,
    btfKey: btfTypeName(info.btfId, info.btfKeyTypeId),
    btfValue: btfTypeName(info.btfId, info.btfValueTypeId),
  };
}

/** What libbpf loaded (pinned into `pinDir` by the harness, read back, pins left to the caller). */
export function libbpfLoad(
  objPath: string,
  pinDir: string,
  mapPinRoot?: string,
): {
  programs: Record<string, KernelProgram & { expectedAttachType: number }>;
  maps: Record<string, KernelMap>;
} {
  const out = execFileSync(harness(), ['load', objPath, pinDir, ...(mapPinRoot ? [mapPinRoot] : [])], {
    encoding: 'utf8',
  });
  const report = JSON.parse(out) as {
    programs: { name: string; type: number; expectedAttachType: number }[];
    maps: { name: string }[];
  };
  const programs: Record<string, KernelProgram & { expectedAttachType: number }> = {};
  for (const p of report.programs) {
    using prog = Program.fromPin(join(pinDir, `p_${p.name}`.replaceAll('.', '_')));
    programs[p.name] = {
      name: p.name,
      type: progGetInfo(prog.fd).typeId,
      xlated: normalisedXlated(prog.fd.fd),
      expectedAttachType: p.expectedAttachType,
    };
  }
  const maps: Record<string, KernelMap> = {};
  for (const m of report.maps) {
    using fd = objGet(join(pinDir, `m_${m.name}`.replaceAll('.', '_')));
    const d = describeMap(m.name, fd.fd);
    maps[d.name] = d;
  }
  return { programs, maps };
}

/** The same description of a bpfjs collection. */
export function describeCollection(coll: Collection): {
  programs: Record<string, KernelProgram>;
  maps: Record<string, KernelMap>;
} {
  const programs: Record<string, KernelProgram> = {};
  for (const [name, p] of coll.programs) {
    programs[name] = { name, type: progGetInfo(p.fd).typeId, xlated: normalisedXlated(p.fd.fd) };
  }
  const maps: Record<string, KernelMap> = {};
  for (const [name, m] of coll.maps) {
    const d = describeMap(name, m.fd.fd);
    maps[d.name] = d;
  }
  return { programs, maps };
}
