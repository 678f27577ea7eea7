import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The name of the repository's package: a checkout, where the runtime sits beside the generators. */
export const CHECKOUT_NAME = 'loco-ts';

/** The packages this code runs from: the repository, or the published `create-loco-app` and `loco-gen`. */
export const PACKAGE_NAMES = [CHECKOUT_NAME, 'create-loco-app', 'loco-gen'];

/**
 * The root folder of the package this code runs from (the one holding `templates/`): the nearest
 * folder above this file whose package.json is named `loco-ts` (a checkout: from `generators/`
 * through tsx, or from `dist/generators/`), `create-loco-app` or `loco-gen` (published, or
 * installed in an app).
 */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let folder = from;
  for (;;) {
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest) && PACKAGE_NAMES.includes(readPackageJson(folder).name ?? '')) return folder;
    const parent = path.dirname(folder);
    if (parent === folder) {
      throw new Error(
        `Cannot find the package folder above ${from}: no package.json named ${PACKAGE_NAMES.join(', or ')}. ` +
          'Run the generators from a checkout of the loco-ts repository, or install create-loco-app or loco-gen.',
      );
    }
    folder = parent;
  }
}

/** The Handlebars templates of one generator: `templates/app`, `templates/worker` or `templates/task`. */
export function templatesDir(name: 'app' | 'worker' | 'task', root: string = packageRoot()): string {
  return path.join(root, 'templates', name);
}

/** The fields of a package.json these generators read. */
export interface PackageJson {
  name?: string;
  version?: string;
  /** In the published create-loco-app: what a new app pins (see scripts/packages.mjs). */
  locoApp?: { runtime: string; generators: string; versions: Record<string, string> };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Reads `<folder>/package.json`. */
export function readPackageJson(folder: string): PackageJson {
  return JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as PackageJson;
}
