import { Command, CommanderError } from 'commander';
import type { Action } from './commands/action.js';
import { addDemoCommand } from './commands/demo.js';
import { addGenCommands } from './commands/gen.js';
import { addLinkCommands } from './commands/link.js';
import { addMapCommands } from './commands/map.js';
import { addNetNsCommands } from './commands/netns.js';
import { addObjectCommands } from './commands/object.js';
import { addProgCommands } from './commands/prog.js';
import type { Context } from './context.js';
import {
  type Capability,
  EXIT_FAILURE,
  EXIT_USAGE,
  formatFailure,
  formatJsonFailure,
  UsageError,
} from './errors.js';
import { escapeControl } from './format.js';
import { type Io, processIo } from './io.js';
import { VERSION } from './version.js';

/** The state of one `run()`: what the running command needs and the exit code it chose. */
export interface RunState {
  /** Capabilities the running command needs (named in the hint of an EPERM). */
  needs: Capability[];
  /** The exit status the command chose (0 ok, 1 failed, 2 usage). */
  exitCode: number;
  /** The command line as typed, for hints that repeat it. */
  commandLine: string;
  /** `--json`/`--pretty` as far as known (also read from argv, for failures before an action). */
  json?: 'plain' | 'pretty' | undefined;
}

/** `--json` / `--pretty` (or `-j`, `-p`, combined short flags) among the options of `argv`. */
function jsonMode(argv: readonly string[]): 'plain' | 'pretty' | undefined {
  let mode: 'plain' | 'pretty' | undefined;
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--pretty' || (/^-[A-Za-z]+$/.test(a) && a.includes('p'))) return 'pretty';
    if (a === '--json' || (/^-[A-Za-z]+$/.test(a) && a.includes('j'))) mode = 'plain';
  }
  return mode;
}

/** Quotes one argument for a shell command line shown in hints. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * Builds the `bpfjs` command tree (commander) writing to `io`. Parse with
 * `program.parseAsync(argv, { from: 'user' })`; errors are thrown (`exitOverride`), never
 * `process.exit`. Most callers want {@link run} instead.
 */
export function createProgram(io: Io = processIo(), state?: RunState): Command {
  const st: RunState = state ?? { needs: [], exitCode: 0, commandLine: 'bpfjs' };
  const program = new Command('bpfjs');
  program
    .description(
      'show and manage BPF links, programs, maps and netns attachments; `bpfjs demo` shows the netns link story',
    )
    .version(VERSION, '-V, --version')
    .option('-j, --json', 'print JSON (bpftool field names) instead of tables')
    .option('-p, --pretty', 'print indented JSON (implies --json)')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (s) => io.out(s),
      // Usage errors quote the command line: no raw control characters to the terminal.
      writeErr: (s) => io.err(escapeControl(s, true)),
      outputError: (s, write) => write(s.replace(/^error: /, 'bpfjs: usage: ')),
    })
    .exitOverride();

  const act: Action =
    (fn) =>
    async (...args) => {
      const command = args[args.length - 1] as Command;
      const globals = command.optsWithGlobals() as { json?: boolean; pretty?: boolean };
      // Commander passes (positional..., options, command); the options object is the command's own.
      const positional = args.slice(0, -1);
      const json = globals.json === true || globals.pretty === true;
      st.json = json ? (globals.pretty === true ? 'pretty' : 'plain') : undefined;
      const ctx: Context = {
        // Human output: every control character but the line breaks the command writes itself is
        // escaped (the fields were escaped already: names with a newline cannot forge rows).
        io: json
          ? io
          : {
              out: (s: string) => io.out(escapeControl(s, true)),
              err: (s: string) => io.err(s),
              onInterrupt: (h: (signal: string) => void) => io.onInterrupt(h),
            },
        json,
        pretty: globals.pretty === true,
        commandLine: st.commandLine,
        needs: (...caps) => {
          for (const c of caps) if (!st.needs.includes(c)) st.needs.push(c);
        },
      };
      // Commander's positional arguments are what the action declared: trust the command definition.
      const code = await (fn as (c: Context, ...rest: unknown[]) => unknown)(ctx, ...positional);
      if (typeof code === 'number') st.exitCode = code;
    };

  addLinkCommands(program, act);
  addProgCommands(program, act);
  addMapCommands(program, act);
  addNetNsCommands(program, act);
  addObjectCommands(program, act);
  addGenCommands(program, act);
  addDemoCommand(program, act);
  return program;
}

/**
 * Runs the `bpfjs` command line `argv` (without `node` and the script: `['link', 'list']`) and
 * resolves to its exit status: 0 on success, 1 when the command failed (`bpfjs: <code>: <message>`
 * on stderr, plus which capability is missing and how to get it for EPERM/EACCES), 2 for bad usage.
 * Never throws for a bad command line and never calls `process.exit`; rejects with a `TypeError`
 * (`ERR_INVALID_ARG_TYPE`) only when `argv` is not an array of strings or `io` is not an `Io`.
 */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  // Misuse of the API itself (not a bad command line) rejects with a coded TypeError, before
  // anything runs: `io.err` would otherwise fail with a bare "cannot read properties of null".
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    throw apiTypeError('argv', 'an array of strings', argv);
  }
  if (
    typeof io !== 'object' ||
    io === null ||
    typeof io.out !== 'function' ||
    typeof io.err !== 'function' ||
    typeof io.onInterrupt !== 'function'
  ) {
    throw apiTypeError('io', 'an Io ({ out, err, onInterrupt }), e.g. bufferedIo()', io);
  }
  const state: RunState = {
    needs: [],
    exitCode: 0,
    commandLine: ['bpfjs', ...argv].map(shellQuote).join(' '),
    json: jsonMode(argv),
  };
  let program: Command | undefined;
  try {
    program = createProgram(io, state);
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    const json = state.json;
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // Commander has printed the message (and the help when a command group was given alone).
      if (json !== undefined) io.out(formatJsonFailure(error, json === 'pretty'));
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.err(`bpfjs: usage: ${escapeControl(error.message)}\n(add --help for usage)\n`);
      if (json !== undefined) io.out(formatJsonFailure(error, json === 'pretty'));
      return EXIT_USAGE;
    }
    io.err(formatFailure(error, state.needs, state.commandLine));
    // bpftool prints {"error": …} on stdout in JSON mode; the text stays on stderr for people.
    if (json !== undefined) io.out(formatJsonFailure(error, json === 'pretty'));
    return EXIT_FAILURE;
  }
}

/** `ERR_INVALID_ARG_TYPE` for a misused `run()` argument. */
function apiTypeError(name: string, expected: string, actual: unknown): TypeError & { code: string } {
  const got = actual === null ? 'null' : Array.isArray(actual) ? 'an array with a non-string' : typeof actual;
  return Object.assign(new TypeError(`The "${name}" argument must be ${expected}. Received ${got}`), {
    code: 'ERR_INVALID_ARG_TYPE',
  });
}
