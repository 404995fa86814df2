/**
 * `bpfjs map ...` run as a process (the built `dist/bin.js`) against maps made in-process, its
 * `--json` compared with `bpftool -j map ...` on the same maps (bytes as bpftool's hex strings).
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BtfWriter } from '@bpfjs/btf';
import { BpfMap } from '@bpfjs/map';
import { btfLoad } from '@bpfjs/sys';
import { requireExecutable, requireKernel, tempBpffs } from '@bpfjs/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);

async function bpfjs(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function bpftool(...args: string[]): unknown {
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
}

type Element = { key: string[] };
const byKey = (a: Element, b: Element) => a.key.join().localeCompare(b.key.join());

requireKernel()
  .and(requireExecutable('bpftool', 'apt-get install bpftool (scripts/setup does)'))
  .describe('bpfjs map (compared with bpftool -j)', () => {
    let hash: BpfMap<number, bigint>;
    let percpu: BpfMap<number, bigint[]>;
    let fs: ReturnType<typeof tempBpffs>;
    beforeAll(() => {
      fs = tempBpffs({ cleanup: 'manual' });
      hash = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 8, name: 'bpfjs_cli' });
      hash.set(1, 258n).set(7, 3n);
      hash.pin(fs.pinPath('hash'));
      percpu = BpfMap.create({ type: 'percpu_array', key: 'u32', value: 'u64', maxEntries: 2 }) as never;
      percpu.set(1, 5n as never);
    });
    afterAll(() => {
      hash?.close();
      percpu?.close();
      fs?.dispose();
    });

    it('show / list --json: the fields bpftool prints, with its values', async () => {
      const ours = JSON.parse((await bpfjs('--json', 'map', 'show', String(hash.id))).stdout);
      expect(ours).toEqual(bpftool('map', 'show', 'id', String(hash.id)));
      const pinned = JSON.parse((await bpfjs('--json', 'map', 'show', fs.pinPath('hash'))).stdout);
      expect(pinned).toMatchObject({ id: hash.id, pinned: [fs.pinPath('hash')] });
      const list = JSON.parse((await bpfjs('--json', 'map', 'list')).stdout) as { id: number }[];
      const { bytes_memlock: _m, frozen: _f, ...rest } = ours;
      expect(list.find((m) => m.id === hash.id)).toEqual(rest);
      const table = (await bpfjs('map', 'list')).stdout;
      expect(table).toMatch(new RegExp(`\\b${hash.id}\\s+hash\\s+bpfjs_cli\\s+4B\\s+8B\\s+8\\b`));
    });

    it('dump / lookup --json equal bpftool (plain and per-CPU)', async () => {
      const dump = JSON.parse((await bpfjs('--json', 'map', 'dump', String(hash.id))).stdout) as Element[];
      const theirs = bpftool('map', 'dump', 'id', String(hash.id)) as Element[];
      expect(dump.sort(byKey)).toEqual(theirs.sort(byKey));
      const look = JSON.parse(
        (await bpfjs('--json', 'map', 'lookup', String(hash.id), 'key', '1', '0', '0', '0')).stdout,
      );
      expect(look).toEqual(bpftool('map', 'lookup', 'id', String(hash.id), 'key', '1', '0', '0', '0'));
      const per = JSON.parse((await bpfjs('--json', 'map', 'dump', String(percpu.id))).stdout) as Element[];
      expect(per.sort(byKey)).toEqual(
        (bpftool('map', 'dump', 'id', String(percpu.id)) as Element[]).sort(byKey),
      );
      const plain = (await bpfjs('map', 'dump', String(hash.id))).stdout;
      expect(plain).toMatch(/key: 01 00 00 00 {2}value: 02 01 00 00 00 00 00 00\n/);
      expect(plain).toMatch(/Found 2 elements\n$/);
      const missing = await bpfjs('map', 'lookup', String(hash.id), 'key', 'hex', '09000000');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/ENOENT/);
    });

    it('update (flags), delete, pin, freeze: what bpfjs writes, bpftool reads back', async () => {
      const id = String(hash.id);
      const up = await bpfjs(
        'map',
        'update',
        fs.pinPath('hash'),
        'key',
        '9',
        '0',
        '0',
        '0',
        'value',
        '0x10',
        '0',
        '0',
        '0',
        '0',
        '0',
        '0',
        '0',
        'noexist',
      );
      expect(up.code, up.stderr).toBe(0);
      expect(bpftool('map', 'lookup', 'id', id, 'key', '9', '0', '0', '0')).toMatchObject({
        value: ['0x10', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00'],
      });
      expect(hash.get(9)).toBe(16n);
      const again = await bpfjs(
        'map',
        'update',
        id,
        'key',
        '9',
        '0',
        '0',
        '0',
        'value',
        '1',
        '0',
        '0',
        '0',
        '0',
        '0',
        '0',
        '0',
        'noexist',
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/EEXIST/);
      const short = await bpfjs('map', 'update', id, 'key', '9', '0', 'value', '1');
      expect(short.code).not.toBe(0);
      expect(short.stderr).toMatch(/got 2 bytes, the map's key size is 4/);
      expect((await bpfjs('map', 'delete', id, 'key', '9', '0', '0', '0')).code).toBe(0);
      expect(hash.has(9)).toBe(false);
      const pinAt = fs.pinPath('again');
      expect((await bpfjs('map', 'pin', id, pinAt)).code).toBe(0);
      using reopened = BpfMap.fromPin(pinAt, { key: 'u32', value: 'u64' });
      expect(reopened.get(1)).toBe(258n);
      expect((await bpfjs('map', 'freeze', id)).code).toBe(0);
      expect(bpftool('map', 'show', 'id', id)).toMatchObject({ frozen: 1 });
      const frozen = await bpfjs(
        'map',
        'update',
        id,
        'key',
        '1',
        '0',
        '0',
        '0',
        'value',
        '1',
        '0',
        '0',
        '0',
        '0',
        '0',
        '0',
        '0',
      );
      expect(frozen.code).toBe(1);
      expect(frozen.stderr).toMatch(/EPERM.*frozen/);
    });

    it("dump --json of a map with BTF carries bpftool's formatted, equal to bpftool's", async () => {
      const w = new BtfWriter();
      const u32 = w.add({ kind: 'int', name: 'unsigned int', size: 4, int: { encoding: 0, bits: 32 } });
      const u64 = w.add({
        kind: 'int',
        name: 'long long unsigned int',
        size: 8,
        int: { encoding: 0, bits: 64 },
      });
      const ch = w.add({ kind: 'int', name: 'char', size: 1, int: { encoding: 1, bits: 8 } });
      const name = w.add({ kind: 'array', array: { type: ch, indexType: u32, nelems: 8 } });
      const value = w.add({
        kind: 'struct',
        name: 'counter',
        size: 16,
        members: [
          { name: 'hits', type: u64, bitOffset: 0 },
          { name: 'name', type: name, bitOffset: 64 },
        ],
      });
      using btf = btfLoad({ data: w.encode() });
      using m = BpfMap.create({
        type: 'hash',
        key: 'btf',
        value: 'btf',
        maxEntries: 4,
        btf: { fd: btf, keyTypeId: u32, valueTypeId: value },
      });
      m.set(3, { hits: 12n, name: 'web' }).set(4, { hits: 1n, name: 'db' });
      const ours = JSON.parse((await bpfjs('--json', 'map', 'dump', String(m.id))).stdout) as Element[];
      const theirs = bpftool('map', 'dump', 'id', String(m.id)) as Element[];
      expect(ours.sort(byKey)).toEqual(theirs.sort(byKey));
      expect(ours.map((e) => (e as { formatted?: unknown }).formatted)).toContainEqual({
        key: 3,
        value: { hits: 12, name: 'web' },
      });
      const plain = (await bpfjs('map', 'dump', String(m.id))).stdout;
      expect(plain).toMatch(/"name": "web"/);
    });
  });
