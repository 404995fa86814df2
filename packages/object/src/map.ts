/**
 * The maps a {@link Collection} owns. Until `@bpfjs/map`'s `BpfMap` is available this is a small
 * handle over sys's element commands; {@link createMap} is the one place that creates maps.
 *
 * @module
 */
import {
  bpf,
  type Fd,
  type MapCreateOptions,
  type MapInfo,
  mapCreate,
  mapGetInfo,
  mapLookupElem,
  mapUpdateElem,
  objPin,
} from '@bpfjs/sys';
import { BPF_MAP_FREEZE, bpf_map_type_name, MapElemAttr } from '@bpfjs/uapi';

/** A map created (or reused) by a loaded object. Owns its fd. */
export class ObjectMap implements Disposable {
  /** Name in the object (`'sockets'`, `'.rodata'`). */
  readonly name: string;
  /** The owned descriptor. */
  readonly fd: Fd;
  /** `enum bpf_map_type`. */
  readonly typeId: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Where it was pinned (by name) or found pinned, if anywhere. */
  pinnedPath: string | undefined;

  /** @internal */
  constructor(
    name: string,
    fd: Fd,
    info: Pick<MapInfo, 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'>,
  ) {
    this.name = name;
    this.fd = fd;
    this.typeId = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
  }

  /** bpftool's name of the map type. */
  get type(): string {
    return bpf_map_type_name[this.typeId] ?? `type ${this.typeId}`;
  }

  /** The kernel's map id. */
  get id(): number {
    return mapGetInfo(this.fd).id;
  }

  /** What the kernel reports about the map. */
  info(): MapInfo {
    return mapGetInfo(this.fd);
  }

  /**
   * The value of `key` (`valueSize` bytes; per CPU for per-CPU maps), or `undefined` if absent.
   * @throws BpfError for failures other than ENOENT.
   */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const value = new Uint8Array(this.valueSize);
    try {
      mapLookupElem(this.fd, key, value);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
    return value;
  }

  /** Sets `key` to `value` (`flags`: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2). @throws BpfError. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    mapUpdateElem(this.fd, key, value, flags);
  }

  /** Pins the map at `path` (on bpffs). @throws BpfError. */
  pin(path: string): void {
    objPin(this.fd, path);
    this.pinnedPath = path;
  }

  /** Closes the fd (idempotent). */
  close(): void {
    this.fd.close();
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Creates a map (the one place maps are created; `@bpfjs/map` replaces it). @internal */
export function createMap(opts: MapCreateOptions): Fd {
  return mapCreate(opts);
}

/** `BPF_MAP_FREEZE` (5.2+): no more writes from user space. @internal */
export function freezeMap(fd: Fd): void {
  const attr = new Uint8Array(MapElemAttr.size);
  new DataView(attr.buffer).setUint32(MapElemAttr.fields.map_fd.offset, fd.fd, true);
  bpf(BPF_MAP_FREEZE, attr, 4);
}
