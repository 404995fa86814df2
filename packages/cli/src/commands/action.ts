import type { Context } from '../context.js';

/**
 * Wraps a command body into a commander action: builds the {@link Context} from the parsed
 * command, then calls `fn(ctx, ...positional arguments, options)`. A returned (or resolved)
 * number becomes the exit status; anything else means 0.
 */
export type Action = <A extends unknown[]>(
  fn: (ctx: Context, ...args: A) => unknown,
) => (...args: unknown[]) => Promise<void>;
