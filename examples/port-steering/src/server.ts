/**
 * The steering service as a process: makes its listener inside the netns (`ns.socket()`), registers
 * it under its label, steers its port ranges to it and answers every connection with
 * `<label> <pid>`. State is pinned in `--pin-dir`.
 *
 *   node dist/server.js --pin-dir DIR --netns PATH --label web --bind tcp:7000-7099 [--bind ...]
 *
 * Restart without refusing a connection (SIGUSR2, like nginx's binary upgrade): the process starts
 * its successor with the listening socket as fd 3 (a socket cannot be pinned; systemd's socket
 * activation hands it over the same way), the successor opens the pinned state, swaps its program in
 * on the pinned link and says "ready" over IPC; then this process stops accepting and exits.
 * Connections that arrive meanwhile wait in the socket's queue, which both processes share.
 * SIGTERM stops the service; the pins stay.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { NetNs } from '@bpfjs/netns';
import { Fd } from '@bpfjs/sys';
import { SteeringService } from './service.js';
import type { Protocol } from './state.js';

const { values } = parseArgs({
  options: {
    'pin-dir': { type: 'string' },
    netns: { type: 'string' },
    label: { type: 'string', default: 'web' },
    bind: { type: 'string', multiple: true, default: [] },
    'listen-fd': { type: 'string' },
  },
});
const pinDir = values['pin-dir'];
if (pinDir === undefined) throw new TypeError('--pin-dir is required');
const label = values.label;

// The listener: inherited from the predecessor, or made inside the netns.
let listener: Fd;
if (values['listen-fd'] !== undefined) {
  listener = new Fd(Number(values['listen-fd']));
} else {
  if (values.netns === undefined) throw new TypeError('--netns is required without --listen-fd');
  using ns = NetNs.open(values.netns);
  listener = ns.socket({ type: 'tcp', host: '127.0.0.1', port: 0 });
}

const service = SteeringService.start({
  pinDir,
  ...(values.netns !== undefined ? { netns: values.netns } : {}),
});
service.state.register(label, listener);
for (const spec of values.bind) {
  const m = /^(tcp|udp):(\d+)(?:-(\d+))?$/.exec(spec);
  if (!m) throw new TypeError(`--bind ${spec}: expected tcp:PORT[-PORT] or udp:PORT[-PORT]`);
  service.state.bind(label, m[1] as Protocol, Number(m[2]), Number(m[3] ?? m[2]));
}

const server = net.createServer((c) => c.end(`${label} ${process.pid}\n`));
server.listen({ fd: listener.dup().disown() });
server.on('listening', () => {
  const ready = `ready ${process.pid} program ${service.program.id}`;
  process.stdout.write(`${ready}\n`);
  if (process.send) {
    process.send(ready);
    process.disconnect();
  }
});

function stop(): void {
  server.close();
  service.close();
  listener.close();
}

process.on('SIGTERM', stop);
process.on('SIGUSR2', () => {
  const args = process.argv
    .slice(2)
    .filter((a, i, all) => a !== '--listen-fd' && all[i - 1] !== '--listen-fd');
  const successor = spawn(process.execPath, [process.argv[1]!, ...args, '--listen-fd', '3'], {
    stdio: ['ignore', 'inherit', 'inherit', listener.fd, 'ipc'],
  });
  successor.once('message', () => {
    successor.removeAllListeners('exit');
    successor.unref();
    stop();
  });
  successor.once('exit', (code) => {
    process.stderr.write(`successor exited early (${code}); this process keeps serving\n`);
  });
});
