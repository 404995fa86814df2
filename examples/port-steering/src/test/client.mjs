// A client that connects in a loop until told to stop, run in a worker thread inside the netns
// (NetNs.runInWorker). Progress and the stop flag live in a SharedArrayBuffer:
// [0] attempted, [1] refused (any failed connection), [2] stop when non-zero.
import net from 'node:net';

function once(host, port) {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host, port });
    let data = '';
    c.setEncoding('utf8');
    c.setTimeout(20_000, () => c.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    c.on('data', (d) => {
      data += d;
    });
    c.on('end', () => {
      c.destroy();
      if (data) resolve(data.trim());
      else reject(Object.assign(new Error('closed without an answer'), { code: 'ENOANSWER' }));
    });
    c.on('error', reject);
  });
}

/**
 * Connects to `ports` in turn until stopped (or `limit` attempts); returns counts, errors by code
 * and answers by text.
 */
export async function connectLoop(shared, ports, limit = Number.POSITIVE_INFINITY, host = '127.0.0.1') {
  const s = new Int32Array(shared);
  const errors = {};
  const answers = {};
  for (let i = 0; i < limit && Atomics.load(s, 2) === 0; i++) {
    const port = ports[i % ports.length];
    try {
      const answer = await once(host, port);
      answers[answer] = (answers[answer] ?? 0) + 1;
    } catch (e) {
      errors[e.code ?? 'unknown'] = (errors[e.code ?? 'unknown'] ?? 0) + 1;
      Atomics.add(s, 1, 1);
    }
    Atomics.add(s, 0, 1);
  }
  return { attempted: Atomics.load(s, 0), refused: Atomics.load(s, 1), errors, answers };
}
