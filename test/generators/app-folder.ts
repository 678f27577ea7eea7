// A scratch app folder for the loco-gen tests: src/app.ts and whatever else a test puts there,
// loco-gen run in it in-process or as a command, and a listing to check that nothing was written.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures');
const TSX = import.meta.resolve('tsx');

/** A fixture file's text: `fixture('codemod/class-method', 'input.ts.txt')`. */
export function fixture(folder: string, file: string): string {
  return readFileSync(path.join(FIXTURES, folder, file), 'utf8');
}

/** Lines printed by a generator run in-process. */
export interface Printed {
  log: (line: string) => void;
  error: (line: string) => void;
}

/** A temp folder holding `src/app.ts`; `files` are more files to put in it (relative path -> text). */
export function appFolder(appSource: string, files: Record<string, string> = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'loco-gen-'));
  const lines: string[] = [];
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  write('src/app.ts', appSource);
  for (const [file, text] of Object.entries(files)) write(file, text);
  return {
    root,
    write,
    read: (file: string) => readFileSync(path.join(root, file), 'utf8'),
    exists: (file: string) => existsSync(path.join(root, file)),
    /** Every file in the folder, relative, sorted (folders end with `/` when empty). */
    files: () => listFiles(root),
    /** The `log` and `error` to pass to a generator; `output()` reads what they printed. */
    printed: (): Printed => {
      lines.length = 0;
      return { log: (line) => lines.push(line), error: (line) => lines.push(line) };
    },
    output: () => stripVTControlCharacters(lines.join('\n')),
    /**
     * Runs `loco-gen <args>` in the folder as a command. As root, it runs as the user nobody
     * (through setpriv), so that file permissions hold as they do for a user; the folder is then
     * opened to everyone first, except for what `readOnly` lists, which is made read-only.
     */
    command: (args: string[], readOnly: string[] = []) => {
      if (process.getuid?.() === 0) openToEveryone(root);
      for (const file of readOnly) {
        chmodSync(path.join(root, file), statSync(path.join(root, file)).isDirectory() ? 0o555 : 0o444);
      }
      try {
        return runBin('loco-gen', args, root);
      } finally {
        for (const file of readOnly) chmodSync(path.join(root, file), 0o777);
      }
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Runs one of the bins (`generators/bin/<bin>.ts`, through tsx) in `cwd`, as a user would. As
 * root it runs as the user nobody (through setpriv), so that file permissions hold as they do for
 * a user; the folders it must reach have to be open to everyone then.
 */
export function runBin(bin: 'loco-gen' | 'create-loco-app', args: string[], cwd: string) {
  const node = [process.execPath, '--import', TSX, path.join(ROOT, 'generators/bin', `${bin}.ts`), ...args];
  const [command, ...rest] =
    process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...node] : node;
  const result = spawnSync(command, rest, { cwd, env: plainEnv(), encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}${result.error?.message ?? ''}` };
}

/** The environment for a command whose output is read: no colours (and no FORCE_COLOR to contradict NO_COLOR). */
export function plainEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return env;
}

function listFiles(folder: string, prefix = ''): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .flatMap((entry) => {
      if (!entry.isDirectory()) return [`${prefix}${entry.name}`];
      const inside = listFiles(path.join(folder, entry.name), `${prefix}${entry.name}/`);
      return inside.length > 0 ? inside : [`${prefix}${entry.name}/`];
    })
    .sort();
}

/** Lets every user read and write everything under `folder` (for commands run as nobody). */
export function openToEveryone(folder: string): void {
  chmodSync(folder, 0o777);
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) openToEveryone(full);
    else chmodSync(full, 0o666);
  }
}
