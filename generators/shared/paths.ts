import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The name of this package in package.json; used to find its root folder. */
export const PACKAGE_NAME = 'loco-ts';

/**
 * The root folder of the loco-ts package this code runs from: the nearest folder above this
 * file whose package.json is named `loco-ts`. The same whether running from `generators/`
 * (source, through tsx) or `dist/generators/` (built), in the repository or installed in an app.
 */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let folder = from;
  for (;;) {
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest) && readPackageJson(folder).name === PACKAGE_NAME) return folder;
    const parent = path.dirname(folder);
    if (parent === folder) {
      throw new Error(
        `Cannot find the ${PACKAGE_NAME} package folder above ${from}: no package.json named "${PACKAGE_NAME}". ` +
          'Run the generators from a checkout of the loco-ts repository or from an installed loco-ts package.',
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
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Reads `<folder>/package.json`. */
export function readPackageJson(folder: string): PackageJson {
  return JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as PackageJson;
}
