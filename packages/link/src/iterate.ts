/**
 * Iterating every link and program on the system, tolerating objects that vanish between
 * "next id" and "open by id" (the kernel answers ENOENT; the object is skipped).
 *
 * @module
 */
import { BpfError } from '@bpfjs/sys';
import {
  getNextIdUnchecked,
  linkInfoUnchecked,
  progInfoUnchecked,
  withFdByIdUnchecked,
} from '@bpfjs/sys/internal';
import {
  BPF_LINK_GET_FD_BY_ID,
  BPF_LINK_GET_NEXT_ID,
  BPF_PROG_GET_FD_BY_ID,
  BPF_PROG_GET_NEXT_ID,
} from '@bpfjs/uapi';
import type { LinkInfo, ProgramInfo } from './info.js';

/**
 * Opens the object by id and reads its info (`read`, with the fd closed afterwards); `undefined`
 * if the object is not there to open. Only failures of the open itself (command `openCommand`) are
 * skipped; an error of the info call propagates.
 */
function readOrSkip<T>(
  openCmd: number,
  openCommand: string,
  id: number,
  read: (fd: number) => T,
): T | undefined {
  for (let attempt = 0; ; attempt++) {
    try {
      return withFdByIdUnchecked(openCmd, id, read);
    } catch (err) {
      if (!BpfError.isInstance(err) || err.command !== openCommand) throw err;
      // ENOENT: gone between GET_NEXT_ID and GET_FD_BY_ID.
      if (err.code === 'ENOENT') return undefined;
      // EAGAIN: a link whose id is allocated but not settled yet (bpf_link_by_id(), a link being
      // created right now). Ask again a few times; if it is still not there, it is not part of
      // this snapshot.
      if (err.code === 'EAGAIN') {
        if (attempt < 3) continue;
        return undefined;
      }
      throw err;
    }
  }
}

/**
 * Every link on the system with its info, in id order (BPF_LINK_GET_NEXT_ID + GET_FD_BY_ID +
 * info, Linux 5.8+). A link that disappears mid-iteration is skipped. Each link's fd is closed
 * before the next step; open one with `Link.fromId(info.id)`. Needs CAP_SYS_ADMIN.
 */
export function* links(): Generator<LinkInfo, void, undefined> {
  let id = 0;
  for (;;) {
    const next = getNextIdUnchecked(BPF_LINK_GET_NEXT_ID, id);
    if (next === undefined) return;
    id = next;
    // The fd lives for this one info call only: a raw number, closed before the yield.
    const info = readOrSkip<LinkInfo>(
      BPF_LINK_GET_FD_BY_ID,
      'BPF_LINK_GET_FD_BY_ID',
      next,
      linkInfoUnchecked,
    );
    if (info === undefined) continue;
    yield info;
  }
}

function readProgram(fd: number): ProgramInfo {
  return progInfoUnchecked(fd);
}

/**
 * Every program on the system with its info, in id order (BPF_PROG_GET_NEXT_ID + GET_FD_BY_ID
 * + info). A program that disappears mid-iteration is skipped; open one with
 * `Program.fromId(info.id)`. Needs CAP_SYS_ADMIN.
 */
export function* programs(): Generator<ProgramInfo, void, undefined> {
  let id = 0;
  for (;;) {
    const next = getNextIdUnchecked(BPF_PROG_GET_NEXT_ID, id);
    if (next === undefined) return;
    id = next;
    const info = readOrSkip<ProgramInfo>(BPF_PROG_GET_FD_BY_ID, 'BPF_PROG_GET_FD_BY_ID', next, readProgram);
    if (info === undefined) continue;
    yield info;
  }
}
