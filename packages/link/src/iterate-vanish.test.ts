/**
 * The vanishing-object rule of links()/programs() without racing the kernel: the kernel module
 * is replaced by a fake whose "open by id" fails with ENOENT for some ids, exactly as
 * BPF_LINK_GET_FD_BY_ID does when an object dies between GET_NEXT_ID and GET_FD_BY_ID.
 */
import { BpfError, type Fd } from '@bpfjs/sys';
import { describe, expect, it, vi } from 'vitest';

const ids = [3, 7, 9, 12];
// 7 vanished (ENOENT); 12 is a link being created that never settles in time (EAGAIN).
const failWith = new Map<number, number>([
  [7, 2],
  [12, 11],
]);
const closed: number[] = [];

vi.mock('./kernel.js', () => ({
  linkGetNextId: (start: number) => ids.find((i) => i > start),
  progGetNextId: (start: number) => ids.find((i) => i > start),
  linkGetFdById: (id: number) => open(id),
  progGetFdById: (id: number) => open(id),
  anyLinkInfo: (fd: number) => ({
    id: fd - 1000,
    type: 'netns',
    programId: 0,
    netnsInode: 1,
    attachType: 'sk_lookup',
  }),
  progInfo: (fd: number) => info(fd),
}));

function open(id: number): Fd {
  const errno = failWith.get(id);
  if (errno !== undefined) throw new BpfError(errno, 'bpf', { command: 'BPF_LINK_GET_FD_BY_ID' });
  // A fake "fd" object: only .fd and close() are used by the iterator.
  return { fd: 1000 + id, close: () => closed.push(id) } as unknown as Fd;
}

function info(fd: number): DataView {
  const dv = new DataView(new ArrayBuffer(512));
  dv.setUint32(0, 5, true); // type: netns (link) / prog type 5 (program)
  dv.setUint32(4, fd - 1000, true); // id
  return dv;
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
});
