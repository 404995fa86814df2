// ns.socket(): the socket belongs to the netns it was made in, whatever thread serves it later.
import { execFile, execFileSync } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { getsockname } from '@bpfjs/sys';
import { expectCode, requireExecutable, requireKernel, scaleTimeout, tempNetNs } from '@bpfjs/testkit';
import { expect, it } from 'vitest';

const run = promisify(execFile);

// Connects to 127.0.0.1:port from inside the netns (nsenter) and prints what the server sent.
const CLIENT = `
const c = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
let d = '';
c.setEncoding('utf8');
c.on('data', (x) => { d += x; });
c.on('end', () => process.stdout.write('got:' + d));
c.on('error', (e) => process.stdout.write(String(e.code)));
`;

function connectOutside(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => {
      c.destroy();
      resolve('connected');
    });
    c.on('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
  });
}

requireKernel()
  .and(requireExecutable('nsenter', 'apt-get install util-linux'))
  .and(requireExecutable('ip', 'apt-get install iproute2'))
  .describe('NetNs.socket()', () => {
    it('binds in the netns: refused from outside, served by Node from inside', async () => {
      const ns = tempNetNs();
      // Binding works while the netns's lo is down; connecting inside needs it up.
      using down = ns.socket({ type: 'tcp' });
      expect(getsockname(down).port).toBeGreaterThan(0);
      ns.run(() => execFileSync('ip', ['link', 'set', 'lo', 'up']));
      const sock = ns.socket({ type: 'tcp', host: '127.0.0.1', port: 0, reusePort: true });
      const { port } = getsockname(sock);
      expect(port).toBeGreaterThan(0);
      // Outside (this thread's netns) nothing listens on that port.
      expect(await connectOutside(port)).toBe('ECONNREFUSED');
      const server = net.createServer((s) => s.end('hello from the netns'));
      await new Promise<void>((resolve) => server.listen({ fd: sock.disown() }, resolve));
      try {
        expect((server.address() as net.AddressInfo).port).toBe(port);
        const nsPath = `/proc/${process.pid}/fd/${ns.fd.fd}`;
        const { stdout } = await run(
          'nsenter',
          [`--net=${nsPath}`, process.execPath, '-e', CLIENT, String(port)],
          {
            timeout: scaleTimeout(20_000),
          },
        );
        expect(stdout).toBe('got:hello from the netns');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('udp, and options checked before switching', () => {
      const ns = tempNetNs();
      ns.run(() => execFileSync('ip', ['link', 'set', 'lo', 'up']));
      using udp = ns.socket({ type: 'udp', host: '::1' });
      expect(getsockname(udp)).toMatchObject({ family: 'IPv6', address: '::1' });
      expectCode(() => ns.socket({ type: 'sctp' as never }), 'ERR_INVALID_ARG_VALUE');
      expectCode(() => ns.socket({ type: 'udp', listen: true }), 'ERR_INVALID_ARG_VALUE');
      expectCode(() => ns.socket({ type: 'tcp', port: 70000 }), 'ERR_OUT_OF_RANGE');
      expectCode(() => ns.socket({ type: 'tcp', host: 'localhost' }), 'ERR_INVALID_ARG_VALUE');
      expectCode(() => ns.socket({ type: 'tcp', bogus: 1 } as never), 'ERR_INVALID_ARG_VALUE');
    });
  });

requireKernel().describe('the run() + listen() trap ns.socket() avoids', () => {
  it("ns.run(() => server.listen()) listens in the caller's netns, not inside", async () => {
    const ns = tempNetNs();
    const server = net.createServer((s) => s.end());
    // Node binds on a later tick, after run() has switched the thread back.
    ns.run(() => {
      server.listen(0, '127.0.0.1');
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const { port } = server.address() as net.AddressInfo;
      // Reachable from here (the caller's netns): the server is not in `ns`.
      expect(await connectOutside(port)).toBe('connected');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
