/**
 * Port steering on a real kernel, in a throwaway netns with a private bpffs: a port range reaches
 * one socket; the program is upgraded atomically and the service restarted (a new process) while a
 * client connects in a loop — no connection may be refused across either; the CLI edits the pinned
 * state and traffic follows it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { NetNs } from '@bpfjs/netns';
import {
  deferCleanup,
  requireFeature,
  requireKernel,
  scaleTimeout,
  tempBpffs,
  tempNetNs,
  waitFor,
} from '@bpfjs/testkit';
import { expect } from 'vitest';
import { run } from './cli.js';
import { SteeringService } from './service.js';

// sk_lookup programs and netns links: Linux 5.9; sockhash lookups from user space (list's
// `registered`) 5.10 at the latest, which every kernel with sk_lookup links in the matrix has.
const kernel = requireKernel()
  .and(requireFeature('prog_type:sk_lookup'))
  .and(requireFeature('attach_type:sk_lookup'));
const CLIENT = new URL('./test/client.mjs', import.meta.url);
const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));
const PORTS = Array.from({ length: 100 }, (_, i) => 7000 + i);

interface LoopResult {
  attempted: number;
  refused: number;
  errors: Record<string, number>;
  answers: Record<string, number>;
}

function netnsWithLoopback(): NetNs {
  const ns = tempNetNs();
  ns.run(() => execFileSync('ip', ['link', 'set', 'lo', 'up']));
  return ns;
}

/** Starts the client loop inside `ns`; `stop()` ends it and resolves with its counts. */
function clientLoop(ns: NetNs, ports: number[]) {
  const shared = new SharedArrayBuffer(12);
  const s = new Int32Array(shared);
  const done = ns.runInWorker<LoopResult>(CLIENT, 'connectLoop', [shared, ports]);
  deferCleanup('client loop', async () => {
    Atomics.store(s, 2, 1);
    await done.catch(() => {});
  });
  return {
    attempted: () => Atomics.load(s, 0),
    /** Waits until `n` more connections were attempted than when called. */
    async more(n: number) {
      const from = Atomics.load(s, 0);
      await waitFor(() => Atomics.load(s, 0) >= from + n, {
        timeoutMs: scaleTimeout(30_000),
        description: `${n} more connections`,
      });
    },
    async stop(): Promise<LoopResult> {
      Atomics.store(s, 2, 1);
      return done;
    },
  };
}

function connectOnce(ns: NetNs, port: number): Promise<string> {
  return ns
    .runInWorker<LoopResult>(CLIENT, 'connectLoop', [new SharedArrayBuffer(12), [port], 1])
    .then((r) => Object.keys(r.answers)[0] ?? Object.keys(r.errors)[0] ?? 'none');
}

kernel.describe('port steering (sk_lookup, SOCKHASH, LPM trie; needs root, Linux 5.9+)', () => {
  kernel.it(
    'steers a port range to one socket; an atomic program upgrade refuses no connection',
    async () => {
      const ns = netnsWithLoopback();
      const bpffs = tempBpffs();
      using service = SteeringService.start({ pinDir: bpffs.path, netns: ns });
      const sock = ns.socket({ type: 'tcp' });
      service.state.register('web', sock);
      service.state.bind('web', 'tcp', 7000, 7099);
      const server = net.createServer((c) => c.end('web\n'));
      await new Promise<void>((resolve) => server.listen({ fd: sock.disown() }, resolve));
      deferCleanup('server', () => new Promise<void>((resolve) => server.close(() => resolve())));

      const first = service.program.id;
      const loop = clientLoop(ns, PORTS);
      await loop.more(50);
      const second = service.upgrade();
      expect(second).not.toBe(first);
      expect(service.link.info().programId).toBe(second);
      await loop.more(50);
      await waitFor(() => service.steered > 0n, { description: 'the new program steers' });
      const result = await loop.stop();
      console.log(
        `port-steering upgrade: ${result.attempted} connections attempted, ${result.refused} refused (${JSON.stringify(result.errors)})`,
      );
      expect(result.refused).toBe(0);
      expect(result.answers).toEqual({ web: result.attempted });
      // Every connection went through one of the two programs (the pinned counter spans both).
      expect(service.state.metrics().steered).toBeGreaterThanOrEqual(BigInt(result.attempted));
    },
  );

  kernel.it(
    'a restart of the service process (state pinned, listener handed over) refuses no connection',
    async () => {
      expect(existsSync(SERVER), `${SERVER} missing: run pnpm build first`).toBe(true);
      const ns = netnsWithLoopback();
      const bpffs = tempBpffs();
      const args = [
        SERVER,
        '--pin-dir',
        bpffs.path,
        '--netns',
        `/proc/${process.pid}/fd/${ns.fd.fd}`,
        '--label',
        'web',
        '--bind',
        'tcp:7000-7099',
      ];
      const first = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const pids = new Set<number>([first.pid!]);
      deferCleanup('service processes', () => {
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
      });
      let out = '';
      let err = '';
      first.stdout.on('data', (d) => {
        out += d;
      });
      first.stderr.on('data', (d) => {
        err += d;
      });
      const ready = () =>
        [...out.matchAll(/^ready (\d+) program (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
      await waitFor(() => ready().length === 1, {
        timeoutMs: scaleTimeout(30_000),
        description: `ready (${err})`,
      });

      const loop = clientLoop(ns, PORTS);
      await loop.more(50);
      const exited = new Promise((resolve) => first.once('exit', resolve));
      first.kill('SIGUSR2');
      await waitFor(() => ready().length === 2, {
        timeoutMs: scaleTimeout(30_000),
        description: `successor ready (${err})`,
      });
      const [[pidA, progA], [pidB, progB]] = ready() as [[number, number], [number, number]];
      pids.add(pidB);
      await exited; // the first process is gone: only the successor serves from here
      await loop.more(50);
      const result = await loop.stop();
      console.log(
        `port-steering restart: ${result.attempted} connections attempted, ${result.refused} refused (${JSON.stringify(result.errors)}); answered by ${JSON.stringify(result.answers)}`,
      );
      expect(result.refused).toBe(0);
      expect(Object.keys(result.answers).sort()).toEqual([`web ${pidA}`, `web ${pidB}`].sort());
      expect(progB).not.toBe(progA); // the successor swapped its own program in on the pinned link

      process.kill(pidB, 'SIGTERM');
      await waitFor(
        () => {
          try {
            process.kill(pidB, 0);
            return false;
          } catch {
            return true;
          }
        },
        { timeoutMs: scaleTimeout(30_000), description: 'the successor exits' },
      );
      pids.clear();
      // Pins outlive the service: the link still runs the successor's program, the bindings remain.
      using state = (await import('./state.js')).SteeringState.fromPins(bpffs.path);
      expect(state.list()).toEqual([
        { label: 'web', protocol: 'tcp', first: 7000, last: 7099, registered: false },
      ]);
    },
  );

  kernel.it('CLI: bind, unbind and list edit the pinned state, and traffic follows', async () => {
    const ns = netnsWithLoopback();
    const bpffs = tempBpffs();
    using service = SteeringService.start({ pinDir: bpffs.path, netns: ns });
    const sock = ns.socket({ type: 'tcp' });
    service.state.register('api', sock);
    const server = net.createServer((c) => c.end('api\n'));
    await new Promise<void>((resolve) => server.listen({ fd: sock.disown() }, resolve));
    deferCleanup('server', () => new Promise<void>((resolve) => server.close(() => resolve())));
    const cli = (...argv: string[]) => {
      const io = { out: '', err: '' };
      const status = run(['--pin-dir', bpffs.path, ...argv], {
        stdout: (t) => {
          io.out += t;
        },
        stderr: (t) => {
          io.err += t;
        },
      });
      return { status, ...io };
    };

    expect(await connectOnce(ns, 8050)).toBe('ECONNREFUSED'); // nothing bound, nothing listening
    expect(cli('bind', 'api', 'tcp', '8000-8099').status).toBe(0);
    expect(cli('bind', 'docs', 'tcp', '9000').status).toBe(0);
    expect(JSON.parse(cli('list', '--json').out)).toEqual([
      { label: 'api', protocol: 'tcp', first: 8000, last: 8099, registered: true },
      { label: 'docs', protocol: 'tcp', first: 9000, last: 9000, registered: false },
    ]);
    expect(cli('list').out).toBe('tcp\t8000-8099\tapi\ntcp\t9000\tdocs\t(no socket)\n');
    expect(await connectOnce(ns, 8050)).toBe('api');
    expect(await connectOnce(ns, 8099)).toBe('api');
    expect(await connectOnce(ns, 9000)).toBe('ECONNREFUSED'); // bound to a label without a socket
    expect(service.state.metrics().noSocket).toBe(1n);

    expect(cli('unbind', 'tcp', '8050-8059').status).toBe(0);
    expect(JSON.parse(cli('list', '--json').out).filter((r: { label: string }) => r.label === 'api')).toEqual(
      [
        { label: 'api', protocol: 'tcp', first: 8000, last: 8049, registered: true },
        { label: 'api', protocol: 'tcp', first: 8060, last: 8099, registered: true },
      ],
    );
    expect(await connectOnce(ns, 8055)).toBe('ECONNREFUSED');
    expect(await connectOnce(ns, 8049)).toBe('api');
    expect(await connectOnce(ns, 8060)).toBe('api');
    expect(cli('unbind', 'tcp', '8050').status).toBe(1); // nothing bound there any more
    expect(cli('bind', 'api', 'sctp', '1').status).toBe(2);
    expect(cli('frobnicate').status).toBe(2);
  });
});
