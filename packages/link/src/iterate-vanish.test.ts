/**
 * The vanishing-object rule of links()/programs() without racing the kernel: the kernel module
 * is replaced by a fake whose "open by id" fails with ENOENT for some ids, exactly as
 * BPF_LINK_GET_FD_BY_ID does when an object dies between GET_NEXT_ID and GET_FD_BY_ID.
 */
import { BpfError } from '@bpfjs/sys';
import { describe, expect, it, vi } from 'vitest';

const ids = [3, 7, 9, 12];
// 7 vanished (ENOENT); 12 is a link being created that never settles in time (EAGAIN).
const failWith = new Map<number, number>([
  [7, 2],
  [12, 11],
]);
const closed: number[] = [];
// An info call that fails (for the link with this id) after the open succeeded.
let infoError: { id: number; err: BpfError } | undefined;

vi.mock('@bpfjs/sys/internal', async (importOriginal) => {
  const real = await importOriginal<typeof import('@bpfjs/sys/internal')>();
  const { BPF_LINK_GET_FD_BY_ID } = await import('@bpfjs/uapi');
  return {
    ...real,
    getNextIdUnchecked: (_cmd: number, start: number) => ids.find((i) => i > start),
    withFdByIdUnchecked: <T>(cmd: number, id: number, use: (fd: number) => T) =>
      withFd(cmd === BPF_LINK_GET_FD_BY_ID ? 'BPF_LINK_GET_FD_BY_ID' : 'BPF_PROG_GET_FD_BY_ID', id, use),
    linkInfoUnchecked: (fd: number) => {
      if (infoError !== undefined && fd - 1000 === infoError.id) throw infoError.err;
      return linkInfo(fd);
    },
    progInfoUnchecked: (fd: number) => ({ id: fd - 1000, type: 'sk_lookup', typeId: 30 }),
  };
});

function linkInfo(fd: number) {
  return {
    id: fd - 1000,
    type: 'netns',
    programId: 0,
    netnsInode: 1,
    attachType: 'sk_lookup',
  };
}

// A fake "open by id, use, close": a fake fd number (1000 + id), closed after `use` either way.
function withFd<T>(command: string, id: number, use: (fd: number) => T): T {
  const errno = failWith.get(id);
  if (errno !== undefined) throw new BpfError(errno, 'bpf', { command });
  try {
    return use(1000 + id);
  } finally {
    closed.push(id);
  }
}

const { links, programs } = await import('./iterate.js');

describe('iteration tolerates objects that vanish (ENOENT)', () => {
  it('links() skips ids that cannot be opened any more and closes every fd it opened', () => {
    closed.length = 0;
    expect([...links()].map((i) => i.id)).toEqual([3, 9]);
    expect(closed).toEqual([3, 9]);
  });

  it('programs() likewise', () => {
    closed.length = 0;
    expect([...programs()].map((i) => i.id)).toEqual([3, 9]);
    expect(closed).toEqual([3, 9]);
  });

  it('other errors (EPERM) are not swallowed', () => {
    failWith.set(9, 1);
    try {
      const err = (() => {
        try {
          for (const _ of links()) {
            // drain
          }
        } catch (e) {
          return e as BpfError;
        }
        return undefined;
      })();
      expect(err?.code).toBe('EPERM');
    } finally {
      failWith.delete(9);
    }
  });

  it('an ENOENT from the info call is not taken for a vanished object, and the fd is closed', () => {
    const err = new BpfError(2, 'bpf', { command: 'BPF_OBJ_GET_INFO_BY_FD' });
    infoError = { id: 9, err };
    closed.length = 0;
    try {
      expect(() => [...links()]).toThrow(err);
      expect(closed).toEqual([3, 9]);
    } finally {
      infoError = undefined;
    }
  });
});
