/**
 * Where a command writes and how it learns that the user wants it to stop. The binary uses the
 * process's streams and signals; tests and embedders pass their own.
 */
export interface Io {
  /** Writes to standard output (text is written as given; add your own newlines). */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /**
   * Calls `handler` when the user asks the command to stop (Ctrl-C / SIGTERM for the binary), at
   * most once; returns a function that removes the handler. While a handler is registered the
   * signal does not kill the process, so long-running commands (`netns attach --hold`, `demo`) can
   * clean up first.
   */
  onInterrupt(handler: (signal: string) => void): () => void;
}

const closedReaders = new WeakSet<NodeJS.WriteStream>();
let watching = false;

/**
 * `bpfjs link list | head -1`: when the reader goes away, further output is dropped instead of
 * crashing with EPIPE — the command still finishes (and the demo still cleans up).
 */
function watchForClosedReaders(): void {
  if (watching) return;
  watching = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      closedReaders.add(stream);
    });
  }
}

/**
 * The `Io` of a real process: `process.stdout` / `process.stderr`, and SIGINT / SIGTERM for
 * `onInterrupt` (handlers are installed only while registered, so Ctrl-C keeps its default meaning
 * at every other moment). Output to a reader that has gone away (EPIPE) is dropped.
 */
export function processIo(): Io {
  watchForClosedReaders();
  return {
    out: (text) => {
      if (!closedReaders.has(process.stdout)) process.stdout.write(text);
    },
    err: (text) => {
      if (!closedReaders.has(process.stderr)) process.stderr.write(text);
    },
    onInterrupt: (handler) => {
      let done = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        off();
        if (!done) {
          done = true;
          handler(signal);
        }
      };
      const off = (): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      return off;
    },
  };
}

/** An `Io` that collects output in memory (for `run()` callers and tests). */
export interface BufferedIo extends Io {
  /** Everything written to `out` so far. */
  readonly stdout: string;
  /** Everything written to `err` so far. */
  readonly stderr: string;
  /** Calls the registered interrupt handlers (simulates Ctrl-C). */
  interrupt(signal?: string): void;
}

/** Creates a {@link BufferedIo}. */
export function bufferedIo(): BufferedIo {
  let stdout = '';
  let stderr = '';
  const handlers = new Set<(signal: string) => void>();
  return {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    onInterrupt: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    interrupt: (signal = 'SIGINT') => {
      const list = [...handlers];
      handlers.clear();
      for (const h of list) h(signal);
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

/** Resolves with the signal name at the next interrupt of `io`; `cancel()` stops listening. */
export function nextInterrupt(io: Io): { promise: Promise<string>; cancel: () => void } {
  let off: () => void = () => {};
  const promise = new Promise<string>((resolve) => {
    off = io.onInterrupt(resolve);
  });
  return { promise, cancel: () => off() };
}
