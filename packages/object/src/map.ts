/**
 * Map creation for the loader: {@link createMap} is the one place the loader creates a map
 * (`BpfMap.create` of `@bpfjs/map` with exactly the attributes libbpf passes: BTF fd and key/value
 * type ids, inner map, NUMA node, map_extra); {@link adoptMap} wraps a reused (pinned or
 * replacement) map's fd.
 *
 * @module
 */
import { BpfMap, type BpfMapCreateOptions } from '@bpfjs/map';
import type { Fd } from '@bpfjs/sys';

/** What the loader passes to `BpfMap.create` (keys and values as bytes). @internal */
export type MapOptions = BpfMapCreateOptions<'bytes', 'bytes'>;

/** Creates a map with libbpf's attributes. @internal */
export function createMap(opts: MapOptions): BpfMap {
  return BpfMap.create(opts);
}

/** Wraps a reused map fd (ownership moves to the `BpfMap`; the fd is inspected first). @internal */
export function adoptMap(fd: Fd): BpfMap {
  return BpfMap.fromFd(fd);
}
