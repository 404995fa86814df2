import diagnostics_channel from 'node:diagnostics_channel';
import { closeSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fd, type FdChannelMessage } from './fd.js';
import { O_PATH, openPath } from './syscalls.js';
import { leakedSince, openFds } from './test/fds.js';

const isOpen = (n: number) => openFds().has(n);
const fdFlags = (n: number) => {
  const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${n}`, 'utf8'));
  return Number.parseInt(m![1]!, 8);
};

describe.skipIf(process.platform !== 'linux')('Fd', () => {
  let before: Map<number, string>;
  beforeAll(() => {
    before = openFds();
  });
  afterAll(() => {
    expect(leakedSince(before)).toEqual([]);
  });

  it('owns a descriptor: close is idempotent and fd reads -1 after', () => {
    const f = openPath('/dev/null');
    const n = f.fd;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(isOpen(n)).toBe(true);
    expect(f.closed).toBe(false);
    expect(String(f)).toBe(`Fd(${n})`);
    f.close();
    expect(f.fd).toBe(-1);
    expect(f.closed).toBe(true);
    expect(isOpen(n)).toBe(false);
    f.close();
    expect(String(f)).toBe('Fd(closed)');
  });

  it('closes on Symbol.dispose', () => {
    let n = -1;
    {
      const f = openPath('/dev/null');
      n = f.fd;
      f[Symbol.dispose]();
    }
    expect(isOpen(n)).toBe(false);
  });

  it('disown hands the number over without closing it', () => {
    const f = openPath('/dev/null');
    const n = f.disown();
    expect(f.fd).toBe(-1);
    expect(isOpen(n)).toBe(true);
    expect(() => f.disown()).toThrow(expect.objectContaining({ code: 'ERR_BPFJS_FD_CLOSED' }));
    new Fd(n).close();
    expect(isOpen(n)).toBe(false);
  });

  it('dup gives a close-on-exec descriptor >= 3 for the same file', () => {
    const f = openPath('/dev/null', O_PATH);
    try {
      using d = f.dup();
      expect(d.fd).toBeGreaterThanOrEqual(3);
      expect(d.fd).not.toBe(f.fd);
      expect(fdFlags(d.fd) & 0o2000000).toBe(0o2000000);
      expect(fdFlags(f.fd) & 0o2000000).toBe(0o2000000);
    } finally {
      f.close();
    }
    expect(() => f.dup()).toThrow(expect.objectContaining({ code: 'ERR_BPFJS_FD_CLOSED' }));
  });

  it('close throws EBADF if the number was closed behind its back, and is closed after', () => {
    const f = openPath('/dev/null');
    new Fd(f.fd).close();
    expect(() => f.close()).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close' }));
    expect(f.closed).toBe(true);
  });

  it('refuses bad numbers', () => {
    expect(() => new Fd(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Fd(1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Fd('3' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(Fd.isInstance({ fd: 3, closed: false })).toBe(false);
  });

  it('publishes open and close on diagnostics channels', () => {
    const seen: string[] = [];
    const onOpen = (m: unknown) => {
      const msg = m as FdChannelMessage;
      seen.push(`open ${msg.number} ${msg.fd === null ? '' : 'fd'} ${typeof msg.stack}`);
    };
    const onClose = (m: unknown) => {
      const msg = m as FdChannelMessage;
      seen.push(`close ${msg.number}${msg.disowned ? ' disowned' : ''}`);
    };
    diagnostics_channel.subscribe('bpfjs:fd:open', onOpen);
    diagnostics_channel.subscribe('bpfjs:fd:close', onClose);
    try {
      const a = openPath('/dev/null');
      const na = a.fd;
      a.close();
      a.close();
      const b = openPath('/dev/null');
      const nb = b.fd;
      new Fd(b.disown()).close();
      expect(seen).toEqual([
        `open ${na} fd string`,
        `close ${na}`,
        `open ${nb} fd string`,
        `close ${nb} disowned`,
        `open ${nb} fd string`,
        `close ${nb}`,
      ]);
    } finally {
      diagnostics_channel.unsubscribe('bpfjs:fd:open', onOpen);
      diagnostics_channel.unsubscribe('bpfjs:fd:close', onClose);
    }
  });

  it('a leaked Fd is closed by the safety net with a BPFJS_FD_LEAK warning', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if ((w as { code?: string }).code === 'BPFJS_FD_LEAK') warnings.push(w);
    };
    process.on('warning', onWarning);
    let n = -1;
    try {
      (() => {
        n = openPath('/dev/null').fd;
      })();
      expect(isOpen(n)).toBe(true);
      const deadline = Date.now() + 20_000;
      while (isOpen(n) && Date.now() < deadline) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
      expect(isOpen(n)).toBe(false);
      while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      expect(warnings[0]?.message).toMatch(new RegExp(`file descriptor ${n} was garbage-collected`));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('closed and disowned Fds that are collected are not reported: only the real leak is', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if ((w as { code?: string }).code === 'BPFJS_FD_LEAK') warnings.push(w);
    };
    const leakedEvents: number[] = [];
    const onClose = (m: unknown) => {
      const msg = m as { number: number; leaked?: boolean };
      if (msg.leaked === true) leakedEvents.push(msg.number);
    };
    process.on('warning', onWarning);
    diagnostics_channel.subscribe('bpfjs:fd:close', onClose);
    let leaked = -1;
    const disowned: number[] = [];
    try {
      (() => {
        // Closed and disowned Fds become garbage; their numbers are reused by the next opens, so a
        // finalizer that acted on them would close someone else's descriptor.
        for (let i = 0; i < 50; i++) openPath('/dev/null').close();
        for (let i = 0; i < 5; i++) disowned.push(openPath('/dev/null').disown());
        leaked = openPath('/dev/null').fd;
      })();
      const deadline = Date.now() + 20_000;
      while (warnings.length === 0 && Date.now() < deadline) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
      expect(warnings.map((w) => w.message.match(/file descriptor (\d+)/)?.[1])).toEqual([String(leaked)]);
      expect(leakedEvents).toEqual([leaked]);
      for (const n of disowned) expect(isOpen(n)).toBe(true);
    } finally {
      process.off('warning', onWarning);
      diagnostics_channel.unsubscribe('bpfjs:fd:close', onClose);
      for (const n of disowned) closeSync(n);
    }
  });
});
