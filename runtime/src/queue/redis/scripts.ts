import type { RedisClient } from './keys.js';
import { LUA_SCRIPTS, SCRIPT_NAMES } from './lua.generated.js';

/** The Lua scripts of the Redis backend: one file each in `lua/`, built into `lua.generated.ts`. */
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** Defines every script on a connection as a command (`EVALSHA`, falling back to `EVAL` once per connection). */
export function defineScripts(redis: RedisClient): void {
  for (const name of SCRIPT_NAMES) {
    const { numberOfKeys, lua } = LUA_SCRIPTS[name];
    redis.defineCommand(commandName(name), { numberOfKeys, lua });
  }
}

type ScriptCommand = (keys: string[], args: Array<string | number>) => Promise<unknown>;

/** Runs a script defined by `defineScripts`. Arguments go as one array, however many there are. */
export function runScript(
  redis: RedisClient,
  name: ScriptName,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  const expected = LUA_SCRIPTS[name].numberOfKeys;
  if (keys.length !== expected) {
    throw new Error(`The Redis script ${name} takes ${expected} keys, given ${keys.length}.`);
  }
  const command = (redis as unknown as Record<string, ScriptCommand>)[commandName(name)];
  return command.call(redis, keys, args);
}

function commandName(name: ScriptName): string {
  return `loco_${name}`;
}
