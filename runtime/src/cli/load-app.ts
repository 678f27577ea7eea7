import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocoError } from '../errors.js';
import type { AppDefinition } from '../hooks.js';

/** The app's sources, in the order they are looked for when there is no up-to-date build. */
const SOURCES = ['src/app.ts', 'src/app.mts', 'src/app.js'];
/** The app's build (`npm run build`). */
const BUILT = 'dist/app.js';

/**
 * The file `loadApp` imports: the app's built JavaScript (`dist/app.js`) when it exists and no
 * file under `src/` is newer, so a process needs neither tsx nor TypeScript (about 35 MB less);
 * otherwise `src/app.ts` (TypeScript through tsx, no build step), as in development.
 */
export function appEntry(root: string): string | undefined {
  const built = path.join(root, BUILT);
  const sources = SOURCES.map((file) => path.join(root, file));
  const source = sources.find((candidate) => existsSync(candidate));
  if (existsSync(built) && (!source || !newerThan(path.join(root, 'src'), statSync(built).mtimeMs))) return built;
  return source;
}

/** Whether any file under `folder` was modified after `time` (ms since the epoch). */
function newerThan(folder: string, time: number): boolean {
  if (!existsSync(folder)) return false;
  return readdirSync(folder, { withFileTypes: true, recursive: true }).some(
    (entry) => entry.isFile() && statSync(path.join(entry.parentPath, entry.name)).mtimeMs > time,
  );
}

/** Loads the app (see `appEntry`) and returns its `App` export (or default export). */
export async function loadApp(root: string): Promise<AppDefinition> {
  const file = appEntry(root);
  if (!file) {
    throw new LocoError(
      `No app found: looked for ${[...SOURCES, BUILT].join(', ')} in ${root}. ` +
        'Run loco from the root folder of an app made by create-loco-app.',
    );
  }
  if (/\.m?ts$/.test(file)) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  const module = (await import(pathToFileURL(file).href)) as { App?: AppDefinition; default?: AppDefinition };
  const app = module.App ?? module.default;
  if (!app) {
    throw new LocoError(
      `${file} exports no App: add \`export class App implements Hooks { ... }\` (or a default export).`,
    );
  }
  return app;
}
