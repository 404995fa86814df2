/**
 * The run-time half of `bpfjs gen skeleton`: a generated module calls {@link openSkeleton} with
 * its object (embedded bytes or a path beside it) and the sha256 recorded at generation, and gets
 * programs, maps typed by BTF codecs, and global variables as properties.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BtfCodec } from '@bpfjs/btf';
import type { Program } from '@bpfjs/link';
import { BpfMap, type CustomCodec } from '@bpfjs/map';
import { BpfObjectError, objectError } from './errors.js';
import type { Collection, LoadOptions } from './load.js';
import { BpfObject, type MapSpec, type VariableSpec } from './object.js';

/** How a generated module names its object. */
export interface SkeletonSource {
  /** The object name (`<name>.rodata` map names). */
  readonly name: string;
  /** The object's bytes (embedded), or the path of the `.o` file. */
  readonly object: Uint8Array | string;
  /** sha256 (hex) of the object when the skeleton was generated. */
  readonly sha256: string;
}

/** Options of a skeleton's `load()`: {@link LoadOptions} plus `.rodata` values set before load. */
export interface SkeletonLoadOptions<R = Record<string, unknown>> extends LoadOptions {
  /** Constants (`.rodata` globals) to set before load; the verifier sees them. */
  readonly rodata?: Partial<R>;
}

/** bpftool names of the maps whose values user space writes as file descriptors (BpfMap's `'fd'` codec). @internal */
export const FD_VALUE_MAPS = new Set([
  'prog_array',
  'perf_event_array',
  'cgroup_array',
  'array_of_maps',
  'hash_of_maps',
  'sockmap',
  'sockhash',
  'reuseport_sockarray',
]);

/** The sha256 (hex) of an object's bytes, as skeletons record it. */
export function objectSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function codecOf(spec: BpfObject, typeId: number): BtfCodec | undefined {
  const btf = spec.btf?.types;
  if (btf === undefined || typeId === 0) return undefined;
  try {
    return new BtfCodec(btf, typeId);
  } catch {
    return undefined; // no value shape (functions, forward declarations): bytes, as generated
  }
}

function custom(codec: BtfCodec): CustomCodec<unknown> {
  return { size: codec.size, encode: (v) => codec.encode(v), decode: (b) => codec.decode(b) };
}

/** Whether a map of the object is one the skeleton types (`.maps`/legacy maps, not global data). */
export function skeletonMaps(spec: BpfObject): MapSpec[] {
  return [...spec.maps.values()].filter((m) => m.origin === 'btf' || m.origin === 'legacy');
}

/** The global variables a skeleton exposes (`.data*`, `.rodata*`, `.bss*`; not `.kconfig`). */
export function skeletonVariables(spec: BpfObject): VariableSpec[] {
  return [...spec.variables.values()].filter((v) => {
    const origin = spec.maps.get(v.map)?.origin;
    return origin === 'data' || origin === 'rodata' || origin === 'bss';
  });
}

function isRodata(spec: BpfObject, v: VariableSpec): boolean {
  return spec.maps.get(v.map)?.origin === 'rodata';
}

/**
 * A skeleton's object before load: the spec (change map sizes etc. there) and `.rodata` constants
 * as properties (`skel.rodata.verbose = 1`), written into the spec's initial contents.
 */
export class SkeletonSpec<P, M, V, R> {
  /** The opened object (everything `BpfObject.open` gives). */
  readonly spec: BpfObject;
  /** `.rodata` globals: read and set before load (the verifier sees them as constants). */
  readonly rodata: R;

  /** @internal */
  constructor(spec: BpfObject) {
    this.spec = spec;
    const rodata: Record<string, unknown> = {};
    for (const v of skeletonVariables(spec)) {
      if (!isRodata(spec, v)) continue;
      const codec = codecOf(spec, v.typeId);
      const contents = () => spec.maps.get(v.map)!.contents;
      Object.defineProperty(rodata, v.name, {
        enumerable: true,
        get: () => {
          const bytes = contents()?.slice(v.offset, v.offset + v.size) ?? new Uint8Array(v.size);
          return codec ? codec.decode(bytes) : bytes;
        },
        set: (value: unknown) => {
          spec.setVariable(v.name, codec ? codec.encode(value) : (value as Uint8Array));
        },
      });
    }
    this.rodata = Object.seal(rodata) as R;
  }

  /**
   * Loads the object (see `BpfObject.load`), after setting `options.rodata`.
   * @throws BpfObjectError for a `.rodata` name the object does not have; what `load` throws.
   */
  load(options: SkeletonLoadOptions<R> = {}): Skeleton<P, M, V, R> {
    const { rodata, ...loadOptions } = options;
    if (rodata !== undefined) {
      for (const [name, value] of Object.entries(rodata)) {
        if (!Object.hasOwn(this.rodata as object, name)) {
          throw objectError(`the object has no .rodata variable '${name}'`, { symbol: name });
        }
        (this.rodata as Record<string, unknown>)[name] = value;
      }
    }
    const coll = this.spec.load(loadOptions);
    try {
      return new Skeleton<P, M, V, R>(this.spec, coll);
    } catch (e) {
      coll.close();
      throw e;
    }
  }
}

/**
 * A loaded skeleton: `programs` by name, `maps` by name as `BpfMap`s typed by the object's BTF
 * (per-CPU values as arrays, fd-valued maps with the `'fd'` codec), `variables` (`.data`/`.bss`
 * read and written in place, mmapped where the kernel allows) and `rodata` (read-only now).
 * Closing it closes everything, also the underlying {@link Collection}.
 */
export class Skeleton<P, M, V, R> implements Disposable {
  /** The loaded object underneath. */
  readonly collection: Collection;
  /** Programs by name (`Program`s of `@bpfjs/link`). */
  readonly programs: P;
  /** Maps by name, typed. */
  readonly maps: M;
  /** `.data` and `.bss` globals: read and written in place. */
  readonly variables: V;
  /** `.rodata` globals as loaded (frozen: read only). */
  readonly rodata: Readonly<R>;
  readonly #typed: BpfMap<unknown, unknown>[] = [];

  /** @internal */
  constructor(spec: BpfObject, coll: Collection) {
    this.collection = coll;
    const programs: Record<string, Program> = {};
    for (const [name, prog] of coll.programs) programs[name] = prog;
    this.programs = Object.freeze(programs) as P;
    const maps: Record<string, BpfMap<unknown, unknown>> = {};
    try {
      for (const m of skeletonMaps(spec)) {
        const raw = coll.map(m.name);
        const key = m.keySize === 0 ? undefined : codecOf(spec, m.keyTypeId);
        const fdValues = FD_VALUE_MAPS.has(m.typeName);
        const value = fdValues || m.valueSize === 0 ? undefined : codecOf(spec, m.valueTypeId);
        const typed = BpfMap.fromFd(raw.fd.dup(), {
          key: key ? custom(key) : 'bytes',
          value: fdValues ? 'fd' : value ? custom(value) : 'bytes',
        }) as BpfMap<unknown, unknown>;
        this.#typed.push(typed);
        maps[m.name] = typed;
      }
    } catch (e) {
      for (const t of this.#typed) t.close();
      throw e;
    }
    this.maps = Object.freeze(maps) as M;
    const variables: Record<string, unknown> = {};
    const rodata: Record<string, unknown> = {};
    for (const v of skeletonVariables(spec)) {
      const variable = coll.variables.get(v.name);
      if (variable === undefined) continue;
      const codec = codecOf(spec, v.typeId);
      const get = () => (codec ? codec.decode(variable.get()) : variable.get());
      if (isRodata(spec, v)) {
        Object.defineProperty(rodata, v.name, { enumerable: true, get });
        continue;
      }
      Object.defineProperty(variables, v.name, {
        enumerable: true,
        get,
        set: (value: unknown) => variable.set(codec ? codec.encode(value) : (value as Uint8Array)),
      });
    }
    this.variables = Object.seal(variables) as V;
    this.rodata = Object.freeze(rodata) as R;
  }

  /** Closes the typed maps and the collection (programs, maps, BTF). Idempotent. */
  close(): void {
    for (const t of this.#typed) t.close();
    this.collection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens the object of a generated skeleton. With a path, the file's sha256 must still be the
 * recorded one (the skeleton's types describe that object, not another).
 * @throws BpfObjectError `ERR_BPFJS_OBJECT_INVALID` when the object changed since generation;
 *   what `BpfObject.open` throws.
 */
export function openSkeleton<P, M, V, R>(source: SkeletonSource): SkeletonSpec<P, M, V, R> {
  const bytes = typeof source.object === 'string' ? readFileSync(source.object) : source.object;
  const sha = objectSha256(bytes);
  if (sha !== source.sha256) {
    throw new BpfObjectError(
      'ERR_BPFJS_OBJECT_INVALID',
      `the object ${typeof source.object === 'string' ? source.object : source.name} changed since its skeleton was generated (sha256 ${sha}, skeleton ${source.sha256}); run bpfjs gen skeleton again`,
      {},
    );
  }
  return new SkeletonSpec<P, M, V, R>(BpfObject.open(bytes, { name: source.name }));
}
