import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocoError } from '../errors.js';
import type { AppDefinition } from '../hooks.js';

/**
 * Loads the app's `src/app.ts` (TypeScript through tsx, no build step) and returns its `App`
 * export (or default export).
 */
export async function loadApp(root: string): Promise<AppDefinition> {
  const candidates = ['src/app.ts', 'src/app.mts', 'src/app.js', 'dist/app.js'].map((file) => path.join(root, file));
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) {
    throw new LocoError(
      `No app found: looked for ${candidates.map((c) => path.relative(root, c)).join(', ')} in ${root}. ` +
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
