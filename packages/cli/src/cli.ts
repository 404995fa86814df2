import { Command, CommanderError } from 'commander';
import type { Action } from './commands/action.js';
import { addDemoCommand } from './commands/demo.js';
import { addLinkCommands } from './commands/link.js';
import { addMapCommands } from './commands/map.js';
import { addNetNsCommands } from './commands/netns.js';
import { addObjectCommands } from './commands/object.js';
import { addProgCommands } from './commands/prog.js';
import type { Context } from './context.js';
import { type Capability, EXIT_FAILURE, EXIT_USAGE, formatFailure, UsageError } from './errors.js';
import { type Io, processIo } from './io.js';
import { VERSION } from './version.js';

/** The state of one `run()`: what the running command needs and the exit code it chose. */
interface RunState {
  needs: Capability[];
  exitCode: number;
  commandLine: string;
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
      writeErr: (s) => io.err(s),
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
      const ctx: Context = {
        io,
        json: globals.json === true || globals.pretty === true,
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
  };
  let program: Command | undefined;
  try {
    program = createProgram(io, state);
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // Commander has printed the message (and the help when a command group was given alone).
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.err(`bpfjs: usage: ${error.message}\n(add --help for usage)\n`);
      return EXIT_USAGE;
    }
    io.err(formatFailure(error, state.needs, state.commandLine));
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
