/**
 * Iterating every map on the system (like `links()`/`programs()` in `@bpfjs/link`), tolerating
 * maps that vanish between "next id" and "open by id".
 *
 * @module
 */
import { BpfError, mapGetNextId, withFdById } from '@bpfjs/sys';
import { type BpfMapInfo, readMapInfo } from './map.js';

/**
 * Every map on the system with its info, in id order (`BPF_MAP_GET_NEXT_ID` + `GET_FD_BY_ID` +
 * info). A map that disappears meanwhile is skipped; each fd is closed before the next step (open
 * one with `BpfMap.fromId(info.id)`). Needs CAP_SYS_ADMIN.
 * @throws BpfError EPERM without privileges.
 */
export function* maps(): Generator<BpfMapInfo, void, undefined> {
  let id = 0;
  for (;;) {
    const next = mapGetNextId(id);
    if (next === undefined) return;
    id = next;
    let info: BpfMapInfo;
    try {
      info = withFdById('map', next, readMapInfo);
    } catch (err) {
      if (BpfError.isInstance(err) && err.command === 'BPF_MAP_GET_FD_BY_ID' && err.code === 'ENOENT')
        continue;
      throw err;
    }
    yield info;
  }
}
