/**
 * Map creation for the loader: {@link createMap} is the one place the loader creates a map (sys's
 * `BPF_MAP_CREATE` with exactly the attributes libbpf passes: BTF fd and key/value type ids, inner
 * map fd, NUMA node, map_extra), handed to `@bpfjs/map` as a `BpfMap`.
 *
 * @module
 */
import { BpfMap } from '@bpfjs/map';
import { type Fd, type MapCreateOptions, mapCreate } from '@bpfjs/sys';

/** Creates a map with libbpf's attributes. @internal */
export function createMap(opts: MapCreateOptions): Fd {
  return mapCreate(opts);
}

/** Wraps a created or reused map fd (ownership moves to the `BpfMap`). @internal */
export function adoptMap(fd: Fd): BpfMap {
  return BpfMap.fromFd(fd);
}
