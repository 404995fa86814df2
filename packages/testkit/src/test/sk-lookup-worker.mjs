// Runs on a worker thread inside a test netns (NetNs.runInWorker): brings `lo` up, starts a TCP
// server, optionally puts its socket into a SOCKMAP, connects to another port and reports what
// happened. Plain JavaScript: workers load it without vitest's transform.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

function listen() {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.end('hello from the redirect target'));
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function connect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let data = '';
    c.setEncoding('utf8');
    c.on('data', (d) => {
      data += d;
    });
    c.on('end', () => resolve({ data }));
    c.on('error', (e) => resolve({ error: e.code }));
  });
}

/**
 * @param {{ sysPath: string, mapFd?: number, connectTo: 'other' | 'same' }} args
 */
export async function scenario({ sysPath, mapFd, connectTo }) {
  // A child process forked by this thread starts in this thread's netns.
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const server = await listen();
  try {
    const port = server.address().port;
    if (mapFd !== undefined) {
      const sys = await import(pathToFileURL(sysPath).href);
      const value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, server._handle.fd, true);
      sys.mapUpdateElem(mapFd, new Uint8Array(4), value);
    }
    // A port nothing listens on (the server's port + 1, or - 1 at the top).
    const target = connectTo === 'same' ? port : port === 65535 ? port - 1 : port + 1;
    return { port, target, ...(await connect(target)) };
  } finally {
    server.close();
  }
}
