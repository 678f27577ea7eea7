import { LocoError } from '../../errors.js';

/**
 * The errors the Lua scripts raise on purpose, by code (`redis.error_reply('<CODE> <detail>')`),
 * each turned into the message a user reads; any other error is passed on as it is.
 */
const SCRIPT_ERRORS: Record<string, (detail: string, display: string) => string> = {
  LOCO_DUPLICATE_ID: (id, display) =>
    `Cannot enqueue: a job with id ${id} is already in the Redis queue at ${display}; nothing was written. ` +
    'Every job needs an id of its own: enqueue it again without giving an id.',
};

/** A script's error as the user should read it. */
export function scriptError(err: unknown, display: string): unknown {
  const match = /^(LOCO_[A-Z_]+) (.*)$/.exec((err as Error)?.message ?? '');
  const describe = match && SCRIPT_ERRORS[match[1]];
  return describe ? new LocoError(describe(match[2], display), { cause: err }) : err;
}
