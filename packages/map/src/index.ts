/**
 * `@bpfjs/map`: BPF maps as objects — `BpfMap` (create, open by pin/id/fd, pin, freeze, close),
 * typed keys and values through codecs, iteration with stated guarantees, batch operations,
 * per-CPU values, sockets and programs in fd-valued maps, a `RingBuffer` reader and a
 * `UserRingBuffer` writer.
 *
 * Kernel errors stay `BpfError`s (same `code`, `errno`, `command`) with a sentence added where the
 * map rules explain them; bad input is refused with a permanent `ERR_*` code before any syscall.
 *
 * @packageDocumentation
 */
export { mapBtfCodecs } from './btf.js';
export {
  type BigIntCodecName,
  type Codec,
  type CodecSpec,
  type CodecValue,
  type CustomCodec,
  type FdValue,
  type IntCodecName,
  resolveCodec,
  stringCodec,
  structCodec,
} from './codec.js';
export type { MapErrorContext } from './errors.js';
export type { FdSource } from './fd-source.js';
export { maps } from './iterate.js';
export {
  BpfMap,
  type BpfMapCreateOptions,
  type BpfMapInfo,
  type BpfMapOpenOptions,
  type IterateOptions,
  type SetOptions,
} from './map.js';
export { type MappedArray, mapArray } from './mapped.js';
export { mapTypeName, mapTypeValue } from './names.js';
export type { PinOptions } from './pin.js';
export { RingBuffer, type RingBufferOptions } from './ringbuf.js';
export { UserRingBuffer, type UserRingBufferWaitOptions } from './user-ringbuf.js';
