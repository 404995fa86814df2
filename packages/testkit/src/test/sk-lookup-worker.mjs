// Runs on a worker thread inside a test netns (NetNs.runInWorker): brings `lo` up, starts a TCP
// server (on its own socket, or on the listening socket `fd` the test made with ns.socket() and
// put into a SOCKMAP), connects to another port and reports what happened. Plain JavaScript:
// workers load it without vitest's transform.
import { execFileSync } from 'node:child_process';
import net from 'node:net';

function listen(fd) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.end('hello from the redirect target'));
    server.once('error', reject);
    if (fd === undefined) server.listen(0, '127.0.0.1', () => resolve(server));
    else server.listen({ fd }, () => resolve(server));
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
 * @param {{ fd?: number, connectTo: 'other' | 'same' }} args `fd`: a listening socket this server
 *   takes over (and closes).
 */
export async function scenario({ fd, connectTo }) {
  // A child process forked by this thread starts in this thread's netns.
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const server = await listen(fd);
  try {
    const port = server.address().port;
    // A port nothing listens on (the server's port + 1, or - 1 at the top).
    const target = connectTo === 'same' ? port : port === 65535 ? port - 1 : port + 1;
    return { port, target, ...(await connect(target)) };
  } finally {
    server.close();
  }
}
