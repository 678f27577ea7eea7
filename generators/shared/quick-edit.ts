import { createRequire } from 'node:module';
import { detectImportExtension } from './code-style.js';
import type { CodemodResult, HookRegistration } from './codemod.js';

/**
 * The fast path of `loco-gen`: the edit of `src/app.ts` for an app in the shape create-loco-app
 * writes, made on the text, without TypeScript. Loading TypeScript (through ts-morph) costs some
 * ten times Node's own start-up; this path costs a check with esbuild (which tsx brings to every
 * app) that the file parses before and after the edit.
 *
 * It answers only when it is sure, and the answer is the one `addToHook` would give (the codemod
 * fixtures check both give the same text): the class name appears nowhere in the file, the hook
 * is a method on a line of its own whose body holds only registrations like the one to add,
 * comments and blank lines, and the imports are single lines at the top. Anything else returns
 * `undefined`, and the caller takes the ts-morph path with its checks and messages.
 */
export function quickEdit(source: string, registration: HookRegistration): CodemodResult | undefined {
  const { className, hook } = registration;
  if (new RegExp(`\\b${className}\\b`).test(source)) return undefined;
  if ((source.match(new RegExp(`\\b${hook}\\b`, 'g')) ?? []).length !== 1) return undefined;
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  // Mixed line endings are kept as they are by the codemod; here they would be made one.
  if (eol === '\r\n' && source.split('\n').length !== source.split('\r\n').length) return undefined;
  const lines = source.split(/\r?\n/);

  // The imports: single-line import statements before any other code.
  const importPattern = /^import\s[^;'"]*from\s+(['"])([^'"]+)\1(;?)\s*$/;
  let lastImport = -1;
  const specifiers: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '' || /^\s*\/\//.test(line)) continue;
    if (!line.startsWith('import')) break;
    const match = importPattern.exec(line);
    if (!match) return undefined;
    lastImport = i;
    specifiers.push(match[2]);
  }
  if (lastImport < 0) return undefined;
  const [, quote, , semicolon] = importPattern.exec(lines[lastImport])!;

  // The hook: `[async] connectWorkers(ctx: AppContext, queue: Queue)[: Promise<void>] {` alone on its line.
  const hookLine = lines.findIndex((line) => line.includes(hook));
  const head = new RegExp(
    `^([ \\t]*)(?:public\\s+)?(?:async\\s+)?${hook}\\s*\\(([^()]*)\\)\\s*(?::\\s*Promise<void>\\s*)?\\{\\s*$`,
  ).exec(lines[hookLine]);
  if (!head) return undefined;
  const parameterNames = head[2]
    .split(',')
    .map((parameter) => /^\s*([A-Za-z_$][\w$]*)\s*(?::\s*[\w$.]+)?\s*$/.exec(parameter)?.[1]);
  if (parameterNames.length !== registration.parameters.length || parameterNames.some((name) => !name)) {
    return undefined;
  }
  const wanted = registration.call(parameterNames as string[]);
  const anyClass = escapeRegExp(wanted).replace(escapeRegExp(className), '[A-Za-z_$][\\w$]*');
  const registrationLine = new RegExp(`^([ \\t]*)(await\\s+)?${anyClass}(;?)\\s*(?:\\/\\/.*)?$`);
  let close = -1;
  let last: RegExpExecArray | undefined;
  let lastLine = -1;
  for (let i = hookLine + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === `${head[1]}}`) {
      close = i;
      break;
    }
    if (line.trim() === '' || /^\s*\/\/.*$/.test(line)) continue;
    const match = registrationLine.exec(line);
    if (!match) return undefined;
    last = match;
    lastLine = i;
  }
  if (close < 0 || !last) return undefined;

  const importLine = `import { ${className} } from ${quote}${registration.modulePath}${detectImportExtension(specifiers)}${quote}${semicolon}`;
  const registerLine = `${last[2] ? 'await ' : ''}${wanted}${last[3]}`;
  const edited = [...lines];
  edited.splice(lastLine + 1, 0, `${last[1]}${registerLine}`);
  edited.splice(lastImport + 1, 0, importLine);
  const text = edited.join(eol);
  if (!parses(source) || !parses(text)) return undefined;
  return {
    text,
    insertions: [
      { what: 'import', code: importLine, line: lastImport + 2 },
      { what: 'register', code: registerLine, line: lastLine + 3 },
    ],
  };
}

/**
 * Whether `text` mentions `name` as a word: when it does not, it cannot declare it, and the
 * TypeScript scan of the file for a declaration can be left out.
 */
export function mentions(text: string, name: string): boolean {
  return new RegExp(`\\b${escapeRegExp(name)}\\b`).test(text);
}

/** `import { App } from '...'` when the app file exports `App` by name in a plain declaration; else `undefined`. */
export function quickAppImportLine(appSource: string, specifier = '../../src/app.js'): string | undefined {
  return /^export\s+(?:class|const|let|function)\s+App\b/m.test(appSource)
    ? `import { App } from '${specifier}';`
    : undefined;
}

/** Whether esbuild parses `text` as TypeScript; `false` too when esbuild is not installed. */
function parses(text: string): boolean {
  let esbuild: { transformSync(code: string, options: { loader: 'ts' }): unknown };
  try {
    esbuild = createRequire(import.meta.url)('esbuild');
  } catch {
    return false;
  }
  try {
    esbuild.transformSync(text, { loader: 'ts' });
    return true;
  } catch {
    return false;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
