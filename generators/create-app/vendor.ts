import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { readPackageJson } from '../shared/paths.js';
import { run } from '../shared/run.js';

/** A package of this repository that the app installs from `vendor/`. */
export interface VendorPackage {
  /** Its folder in the repository. */
  folder: string;
  name: string;
  version: string;
  /** The file `npm pack` makes of it: `loco-runtime-0.1.0.tgz`. */
  tarball: string;
}

/** The two packages a new app needs that are not on the registry. */
export interface VendorPackages {
  /** `loco-runtime`: what the app imports (a dependency). */
  runtime: VendorPackage;
  /** `loco-ts`: the `loco-gen` generators (a devDependency). */
  generators: VendorPackage;
}

/**
 * Finds the runtime (`<root>/runtime`) and the generators (`<root>`) in a checkout of the
 * loco-ts repository, with the names `npm pack` will give their tarballs.
 */
export function vendorPackages(root: string): VendorPackages {
  const runtimeFolder = path.join(root, 'runtime');
  if (!existsSync(path.join(runtimeFolder, 'package.json'))) {
    throw new Error(
      `create-loco-app bundles the runtime from a checkout of the loco-ts repository, but ${runtimeFolder} ` +
        'has no package.json. Run create-loco-app from the repository (npm run build, then node dist/generators/bin/create-loco-app.js).',
    );
  }
  return { runtime: describe(runtimeFolder), generators: describe(root) };
}

function describe(folder: string): VendorPackage {
  const { name, version } = readPackageJson(folder);
  if (!name || !version) throw new Error(`${path.join(folder, 'package.json')} has no name or version.`);
  return { folder, name, version, tarball: `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz` };
}

/**
 * Packs each package into `vendorDir` with `npm pack` (which builds it first, through its
 * prepack or prepare script). Throws with npm's output when packing fails.
 */
export async function packVendor(packages: VendorPackage[], vendorDir: string): Promise<void> {
  mkdirSync(vendorDir, { recursive: true });
  for (const pkg of packages) {
    const result = await run('npm', ['pack', '--pack-destination', vendorDir], { cwd: pkg.folder, stdio: 'capture' });
    if (result.code !== 0) {
      throw new Error(
        `npm pack of ${pkg.name} in ${pkg.folder} failed (exit code ${result.code}):\n${result.output.trim()}`,
      );
    }
    if (!existsSync(path.join(vendorDir, pkg.tarball))) {
      throw new Error(
        `npm pack of ${pkg.name} in ${pkg.folder} did not make ${pkg.tarball} in ${vendorDir}. npm said:\n${result.output.trim()}`,
      );
    }
  }
}
