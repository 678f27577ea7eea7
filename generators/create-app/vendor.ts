import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CHECKOUT_NAME, readPackageJson } from '../shared/paths.js';
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

/** The two packages a new app needs that come from a checkout, packed into `vendor/`. */
export interface VendorPackages {
  /** `loco-runtime`: what the app imports (a dependency). */
  runtime: VendorPackage;
  /** `loco-gen`: the generators (a devDependency). */
  generators: VendorPackage;
}

/** Where a new app gets `loco-runtime` and `loco-gen`, and the versions it pins. */
export interface AppPackages {
  /** The package.json spec of `loco-runtime`: `^0.1.0`, or `file:vendor/loco-runtime-0.1.0.tgz`. */
  runtime: string;
  /** The package.json spec of `loco-gen`. */
  generators: string;
  /** The other dependencies' ranges: hono, typescript, tsx, uvu, typesNode. */
  versions: Record<string, string>;
  /** From a checkout: the packages to pack into `vendor/`; from the registry: none. */
  vendor: VendorPackages | undefined;
}

/**
 * What a new app depends on. Run from a checkout of the repository (`loco-ts`, with `runtime/`
 * beside it), the runtime and the generators are packed into the app's `vendor/`, so it works
 * offline from that checkout. Run from the published `create-loco-app`, they come from the
 * registry by version (`^0.1.0`), as its package.json's `locoApp` says.
 */
export function appPackages(root: string): AppPackages {
  const own = readPackageJson(root);
  if (own.name !== CHECKOUT_NAME) {
    if (!own.locoApp) {
      throw new Error(
        `${path.join(root, 'package.json')} (${own.name}) has no locoApp field naming the versions a new app pins. ` +
          'Reinstall create-loco-app, or run it from a checkout of the loco-ts repository.',
      );
    }
    return { ...own.locoApp, vendor: undefined };
  }
  const vendor = vendorPackages(root);
  const runtimePackage = readPackageJson(vendor.runtime.folder);
  const version = (dependency: string, from: Record<string, string> | undefined): string => {
    const found = from?.[dependency];
    if (!found)
      throw new Error(`Expected ${dependency} among the dependencies of the loco-ts packages, to pin it in the app.`);
    return found;
  };
  return {
    runtime: `file:vendor/${vendor.runtime.tarball}`,
    generators: `file:vendor/${vendor.generators.tarball}`,
    versions: {
      // The app's hono must be the runtime's, so that both see one Hono type.
      hono: version('hono', runtimePackage.dependencies),
      typescript: version('typescript', own.devDependencies),
      tsx: version('tsx', own.devDependencies),
      uvu: version('uvu', own.devDependencies),
      typesNode: version('@types/node', own.devDependencies),
    },
    vendor,
  };
}

/**
 * Finds the runtime (`<root>/runtime`) and the generators (`loco-gen`, staged from `<root>` by
 * `scripts/packages.mjs`) in a checkout of the loco-ts repository, with the names `npm pack`
 * will give their tarballs.
 */
export function vendorPackages(root: string): VendorPackages {
  const runtimeFolder = path.join(root, 'runtime');
  if (!existsSync(path.join(runtimeFolder, 'package.json'))) {
    throw new Error(
      `create-loco-app bundles the runtime from a checkout of the loco-ts repository, but ${runtimeFolder} ` +
        'has no package.json. Run create-loco-app from the repository (npm run build, then node dist/generators/bin/create-loco-app.js).',
    );
  }
  const own = readPackageJson(root);
  return {
    runtime: describe(runtimeFolder),
    generators: {
      folder: root,
      name: 'loco-gen',
      version: own.version ?? '0.0.0',
      tarball: `loco-gen-${own.version}.tgz`,
    },
  };
}

function describe(folder: string): VendorPackage {
  const { name, version } = readPackageJson(folder);
  if (!name || !version) throw new Error(`${path.join(folder, 'package.json')} has no name or version.`);
  return { folder, name, version, tarball: `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz` };
}

/**
 * Packs the runtime and the generators into `vendorDir` with `scripts/packages.mjs pack` of the
 * checkout, which compiles them first. Throws with its output when packing fails.
 */
export async function packVendor(packages: VendorPackage[], vendorDir: string): Promise<void> {
  mkdirSync(vendorDir, { recursive: true });
  const root = packages.find((pkg) => pkg.name === 'loco-gen')?.folder ?? path.dirname(packages[0].folder);
  const script = path.join(root, 'scripts/packages.mjs');
  const result = await run(process.execPath, [script, 'pack', vendorDir, ...packages.map((pkg) => pkg.name)], {
    cwd: root,
    stdio: 'capture',
  });
  if (result.code !== 0) {
    throw new Error(
      `Packing ${packages.map((pkg) => pkg.name).join(' and ')} from ${root} failed (exit code ${result.code}):\n${result.output.trim()}`,
    );
  }
  for (const pkg of packages) {
    if (!existsSync(path.join(vendorDir, pkg.tarball))) {
      throw new Error(
        `Packing ${pkg.name} did not make ${pkg.tarball} in ${vendorDir}. It said:\n${result.output.trim()}`,
      );
    }
  }
}
