#!/usr/bin/env node
// The three packages users install, made from this repository:
//   loco-runtime     runtime/ as it is (its own package.json; `npm pack runtime` builds it)
//   create-loco-app  dist/packages/create-loco-app: the compiled create-app code and templates/app
//   loco-gen         dist/packages/loco-gen: the compiled generators and templates/{worker,task,scheduler}
//
//   node scripts/packages.mjs stage                 lays out dist/packages/* from dist/generators
//                                                   (run after `tsc -p tsconfig.build.json`; `npm run build` does both)
//   node scripts/packages.mjs pack <dir> [name...]  builds what is needed and `npm pack`s each package into <dir>
//
// Versions and dependency ranges come from the root package.json, so they are written once.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMPILED = path.join(ROOT, 'dist/generators');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** What each generator package holds: its bin, the compiled folders it runs, its templates and dependencies. */
const GENERATOR_PACKAGES = {
  'create-loco-app': {
    description: 'Scaffolds a loco-ts app: npm create loco-app my-app',
    bin: 'create-loco-app',
    folders: ['create-app', 'shared'],
    templates: ['app'],
    dependencies: ['handlebars', 'node-plop', 'picocolors', 'prompts'],
  },
  'loco-gen': {
    description: 'Generators for loco-ts apps: npx loco-gen worker|task|scheduler',
    bin: 'loco-gen',
    folders: ['worker', 'task', 'scheduler', 'shared'],
    templates: ['worker', 'task', 'scheduler'],
    // node-plop only for loco-gen scheduler's tree; worker and task render with Handlebars alone.
    // esbuild (the one tsx brings to every app) checks that src/app.ts parses on the fast path.
    dependencies: ['esbuild', 'handlebars', 'node-plop', 'picocolors', 'ts-morph'],
  },
};

/** Every package name, in the order they are published (the runtime first: the others name it). */
export const PACKAGE_NAMES = ['loco-runtime', 'create-loco-app', 'loco-gen'];

/** The folder `npm pack` / `npm publish` runs in for a package. */
export function packageFolder(name) {
  return name === 'loco-runtime' ? path.join(ROOT, 'runtime') : path.join(ROOT, 'dist/packages', name);
}

/** The package.json of a generator package. */
function manifest(name) {
  const spec = GENERATOR_PACKAGES[name];
  const root = readJson(path.join(ROOT, 'package.json'));
  const runtime = readJson(path.join(ROOT, 'runtime/package.json'));
  const range = (dependency) => {
    const found = root.dependencies?.[dependency] ?? root.devDependencies?.[dependency];
    if (!found) throw new Error(`${name} needs ${dependency}, which the root package.json does not list.`);
    return found;
  };
  const pkg = {
    name,
    version: root.version,
    description: spec.description,
    type: 'module',
    license: root.license,
    engines: root.engines,
    bin: { [spec.bin]: `dist/bin/${spec.bin}.js` },
    files: ['dist', 'templates'],
    dependencies: Object.fromEntries(spec.dependencies.map((dependency) => [dependency, range(dependency)])),
  };
  if (name === 'create-loco-app') {
    // What a new app pins: loco-runtime and loco-gen of this release from the registry, and the
    // versions of its other dependencies this repository is tested with.
    pkg.locoApp = {
      runtime: `^${runtime.version}`,
      generators: `^${root.version}`,
      versions: {
        hono: runtime.dependencies.hono,
        typescript: range('typescript'),
        tsx: range('tsx'),
        uvu: range('uvu'),
        typesNode: range('@types/node'),
      },
    };
  }
  return pkg;
}

/** Lays out dist/packages/<name> from the compiled generators and the templates. */
function stage(name) {
  const spec = GENERATOR_PACKAGES[name];
  if (!existsSync(path.join(COMPILED, 'bin', `${spec.bin}.js`))) {
    throw new Error(`${COMPILED} has no bin/${spec.bin}.js: run tsc -p tsconfig.build.json (npm run build) first.`);
  }
  const folder = packageFolder(name);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(path.join(folder, 'dist/bin'), { recursive: true });
  for (const file of [`${spec.bin}.js`, `${spec.bin}.js.map`]) {
    const from = path.join(COMPILED, 'bin', file);
    if (existsSync(from)) cpSync(from, path.join(folder, 'dist/bin', file));
  }
  for (const sub of spec.folders) cpSync(path.join(COMPILED, sub), path.join(folder, 'dist', sub), { recursive: true });
  for (const sub of spec.templates) {
    cpSync(path.join(ROOT, 'templates', sub), path.join(folder, 'templates', sub), { recursive: true });
  }
  writeFileSync(path.join(folder, 'package.json'), `${JSON.stringify(manifest(name), null, 2)}\n`);
  writeFileSync(
    path.join(folder, 'README.md'),
    `# ${name}\n\n${spec.description}. Part of loco-ts: durable background jobs and code generators for TypeScript.\n`,
  );
}

/** Builds what `names` need and packs each into `destination`; returns the tarball paths. */
export function pack(destination, names = PACKAGE_NAMES) {
  mkdirSync(destination, { recursive: true });
  const generators = names.filter((name) => name !== 'loco-runtime');
  if (generators.length > 0) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    for (const name of generators) stage(name);
  }
  return names.map((name) => {
    // loco-runtime's prepack compiles it; the generator packages are compiled above.
    const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
      cwd: packageFolder(name),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const json = output.slice(output.indexOf('['));
    return path.join(destination, JSON.parse(json)[0].filename);
  });
}

const [command, ...rest] = process.argv.slice(2);
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (command === 'stage') {
    for (const name of Object.keys(GENERATOR_PACKAGES)) stage(name);
  } else if (command === 'pack' && rest[0]) {
    for (const file of pack(path.resolve(rest[0]), rest.length > 1 ? rest.slice(1) : undefined)) console.log(file);
  } else {
    console.error('Usage: node scripts/packages.mjs stage | pack <dir> [loco-runtime|create-loco-app|loco-gen ...]');
    process.exit(1);
  }
}
