/**
 * `port-steering`: edit and show the steering state of a running (or stopped) service through its
 * pinned maps.
 *
 *   port-steering [--pin-dir DIR] bind <label> <tcp|udp> <port>[-<port>]
 *   port-steering [--pin-dir DIR] unbind <tcp|udp> <port>[-<port>]
 *   port-steering [--pin-dir DIR] list [--json]
 */
import { parseArgs } from 'node:util';
import { type Protocol, SteeringState } from './state.js';

/** Where the service pins its state unless told otherwise. */
export const DEFAULT_PIN_DIR = '/sys/fs/bpf/port-steering';

/** Where {@link run} writes. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const USAGE = `usage: port-steering [--pin-dir DIR] bind <label> <tcp|udp> <port>[-<port>]
       port-steering [--pin-dir DIR] unbind <tcp|udp> <port>[-<port>]
       port-steering [--pin-dir DIR] list [--json]`;

class UsageError extends Error {}

function protocol(s: string | undefined): Protocol {
  if (s !== 'tcp' && s !== 'udp') throw new UsageError(`protocol must be tcp or udp, not ${s}`);
  return s;
}

function ports(s: string | undefined): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s ?? '');
  if (!m) throw new UsageError(`ports must be PORT or FIRST-LAST, not ${s}`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

/** Runs one command; returns the exit status (0 ok, 1 failed, 2 usage). Never throws. */
export function run(argv: readonly string[], io: Io): number {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { 'pin-dir': { type: 'string', default: DEFAULT_PIN_DIR }, json: { type: 'boolean' } },
      allowPositionals: true,
    });
    const [command, ...rest] = positionals;
    if (command !== 'bind' && command !== 'unbind' && command !== 'list')
      throw new UsageError('unknown command');
    const wanted = { bind: 3, unbind: 2, list: 0 }[command];
    if (rest.length !== wanted) throw new UsageError(`${command} takes ${wanted} arguments`);
    using state = SteeringState.fromPins(values['pin-dir']);
    if (command === 'bind') {
      state.bind(rest[0]!, protocol(rest[1]), ...ports(rest[2]));
    } else if (command === 'unbind') {
      if (!state.unbind(protocol(rest[0]), ...ports(rest[1]))) {
        io.stderr(`port-steering: nothing bound on ${rest[0]} ${rest[1]}\n`);
        return 1;
      }
    } else {
      const rows = state.list();
      if (values.json) io.stdout(`${JSON.stringify(rows)}\n`);
      else {
        for (const r of rows) {
          const range = r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`;
          io.stdout(`${r.protocol}\t${range}\t${r.label}${r.registered ? '' : '\t(no socket)'}\n`);
        }
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`port-steering: ${(e as Error).message}\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`port-steering: ${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}\n`);
    return 1;
  }
}
