import type { Context } from '../context.js';

/** What a command body returns: nothing (exit 0) or an exit status. */
export type ActionResult = number | undefined;

/**
 * Wraps a command body into a commander action: builds the {@link Context} from the parsed
 * command, then calls `fn(ctx, ...positional arguments, options)`. A returned number becomes the
 * exit status.
 */
export type Action = <A extends unknown[]>(
  fn: (ctx: Context, ...args: A) => ActionResult | undefined | Promise<ActionResult>,
) => (...args: unknown[]) => Promise<void>;
