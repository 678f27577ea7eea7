import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

/** The Lua scripts of the Redis backend, one file each in this folder. */
export const SCRIPT_NAMES = [
  'enqueue',
  'claim',
  'finish',
  'reap',
  'cancel',
  'requeue',
  'remove',
  'list',
  'stats',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** A script ready to define on a connection. */
export interface LuaScript {
  name: ScriptName;
  /** The source with its includes inlined. */
  lua: string;
  /** How many of its arguments are keys: the `KEYS[n]` its header documents. */
  numberOfKeys: number;
}

/**
 * Where the .lua files are: next to this module when it runs from `src/` (tests, tsx), or in the
 * package's `src/queue/redis/` when it runs compiled from `dist/queue/redis/` (tsc does not copy
 * .lua files; the package ships `src/` alongside `dist/`).
 */
function scriptFile(relative: string): string {
  const candidates = [
    new URL(`./${relative}`, import.meta.url),
    new URL(`../../../src/queue/redis/${relative}`, import.meta.url),
  ].map((url) => fileURLToPath(url));
  const found = candidates.find((file) => existsSync(file));
  if (!found) {
    throw new Error(
      `The Redis queue script ${relative} is missing; looked in ${candidates.join(' and ')}. ` +
        'Reinstall loco-runtime: its package must include src/queue/redis/.',
    );
  }
  return found;
}

const INCLUDE = /^--- @include "([\w-]+)"$/gm;

/** Reads one script, inlines its `--- @include "name"` lines from `includes/name.lua`, and counts its keys. */
export function loadScript(name: ScriptName): LuaScript {
  const source = readFileSync(scriptFile(`${name}.lua`), 'utf8');
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
  const keys = new Set([...header.matchAll(/^\s*KEYS\[(\d+)\]/gm)].map((match) => Number(match[1])));
  const lua = source.replace(INCLUDE, (_, include: string) =>
    readFileSync(scriptFile(`includes/${include}.lua`), 'utf8'),
  );
  return { name, lua, numberOfKeys: keys.size };
}

let loaded: Map<ScriptName, LuaScript> | undefined;

/** Defines every script on a connection as a command (`EVALSHA`, falling back to `EVAL` once per connection). */
export function defineScripts(redis: Redis): void {
  loaded ??= new Map(SCRIPT_NAMES.map((name) => [name, loadScript(name)]));
  for (const script of loaded.values()) {
    redis.defineCommand(commandName(script.name), { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
}

/** Runs a script defined by `defineScripts`. Arguments go as one array, however many there are. */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  const expected = loaded?.get(name)?.numberOfKeys;
  if (keys.length !== expected) {
    throw new Error(`The Redis script ${name} takes ${expected} keys, given ${keys.length}.`);
  }
  const command = (
    redis as unknown as Record<string, (keys: string[], args: Array<string | number>) => Promise<unknown>>
  )[commandName(name)];
  return command.call(redis, keys, args);
}

function commandName(name: ScriptName): string {
  return `loco_${name}`;
}
