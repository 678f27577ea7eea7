import type {
  ArrowFunction,
  Block,
  Expression,
  FunctionDeclaration,
  FunctionExpression,
  MethodDeclaration,
  PropertyAssignment,
  PropertyDeclaration,
  SourceFile,
  Statement,
  VariableDeclaration,
} from 'ts-morph';
import { type CodeStyle, detectStyle } from './code-style.js';
import { firstSyntaxError, nameOf, parseTypeScript, topLevelNames } from './syntax.js';
import { Node } from './ts-morph.js';

/**
 * What a generator adds to the app file: the import of a class, and one call registering it in
 * one of the app's hooks (`queue.register(X.build(ctx))` in `connectWorkers`,
 * `tasks.register(new X())` in `registerTasks`).
 */
export interface HookRegistration {
  /** The hook: `connectWorkers`. */
  hook: string;
  /** The hook's parameters as the lines to paste name them: `['ctx', 'queue']`. It must take at least these. */
  parameters: readonly string[];
  /** What is registered, for messages: `worker`. */
  kind: string;
  /** The class to import and register: `ReportWorkerWorker`. */
  className: string;
  /** Its module relative to the app file, without extension: `./workers/report_worker`. */
  modulePath: string;
  /**
   * The registering call, from the names the hook gives its parameters (in the order of
   * `parameters`), without a semicolon: `queue.register(ReportWorkerWorker.build(ctx))`.
   */
  call(parameterNames: readonly string[]): string;
}

/** One line the codemod added. */
export interface Insertion {
  what: 'import' | 'register';
  /** 1-based line number in the new text. */
  line: number;
  /** The line as written, without indentation or line ending. */
  code: string;
}

/** The outcome of `addToHook`: the new text, and what was added (nothing when already there). */
export interface CodemodResult {
  text: string;
  insertions: Insertion[];
}

/** The app file cannot be edited. The message names the file and the line, and says what to do. */
export class AppEditError extends Error {
  override name = 'AppEditError';
}

/** The app file does not parse; it is left alone, since an edit could land in the wrong place. */
export class AppSyntaxError extends AppEditError {
  override name = 'AppSyntaxError';
}

/** The class name is taken in the app file: imported from another module, or declared there. */
export class NameClashError extends AppEditError {
  override name = 'NameClashError';
}

/**
 * The app file does not have a shape the codemod can edit. The message names the file and the
 * construct; `pasteLines` are the exact lines to add by hand.
 */
export class CodemodError extends AppEditError {
  override name = 'CodemodError';

  constructor(
    message: string,
    /** The import line, then the register line. */
    readonly pasteLines: [string, string],
  ) {
    super(message);
  }
}

/** A declaration that can be the hook: a method, a function, or a property or variable holding one. */
type HookDeclaration =
  | MethodDeclaration
  | FunctionDeclaration
  | PropertyDeclaration
  | PropertyAssignment
  | VariableDeclaration;

type HookFunction = MethodDeclaration | FunctionDeclaration | ArrowFunction | FunctionExpression;

/** A text edit: replace `[start, end)` with `text`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

/** What the checks of one run share: the file, its name for messages, what to add, and the lines to paste. */
interface Target {
  sourceFile: SourceFile;
  file: string;
  registration: HookRegistration;
  paste: [string, string];
}

/**
 * Adds `import { X } from './workers/x.js'` after the last import and the registering call inside
 * the hook, after the registrations already there, in the file's own style (quotes, semicolons,
 * indentation, line endings). Adds only what is missing, so a second run changes nothing. Every
 * other character of the file stays as it was: the file is read with ts-morph, and the lines are
 * added as text edits at the positions it gives, rather than printed back from the tree.
 *
 * Finds the hook as a class method or property, an object-literal method or property (arrow or
 * function expression), a function declaration or a variable holding a function.
 *
 * @param source the text of the app file
 * @param file the file's path, for messages
 * @throws AppSyntaxError when the file does not parse
 * @throws NameClashError when the class name is imported from elsewhere or declared in the file
 * @throws CodemodError when there is no single hook of a shape it can edit
 */
export function addToHook(source: string, file: string, registration: HookRegistration): CodemodResult {
  // Parse, and leave a broken file alone.
  const sourceFile = parseTypeScript(source);
  const syntaxError = firstSyntaxError(sourceFile);
  if (syntaxError) {
    throw new AppSyntaxError(
      `${file}:${syntaxError.line}: ${syntaxError.message} ${file} does not parse, so it was not edited: fix this error first.`,
    );
  }
  const style = detectStyle(sourceFile);
  const importLine = importLineFor(registration, style);
  const paste: [string, string] = [
    importLine,
    `${registration.call(registration.parameters)}${style.semicolon ? ';' : ''}`,
  ];
  const target: Target = { sourceFile, file, registration, paste };

  // What is there already (and whether the class name is taken). Both there: nothing to do,
  // whatever the hook looks like, so lines pasted by hand after a refusal are accepted.
  const imported = hasImportOrThrow(target, `${registration.modulePath}${style.importExtension}`);
  const registered = hasRegistration(sourceFile, registration.className);
  if (imported && registered) return { text: source, insertions: [] };

  // Find the hook and check its shape.
  const hook = findHookOrThrow(target);
  const { body, parameterNames } = checkHookShapeOrThrow(hook, target);

  // Insert what is absent.
  const edits: Edit[] = [];
  const inserted: Array<Omit<Insertion, 'line'>> = [];
  if (!imported) {
    edits.push(importEdit(sourceFile, importLine, style));
    inserted.push({ what: 'import', code: importLine });
  }
  if (!registered) {
    const last = body.getStatements().filter(isRegistration).at(-1);
    const awaited = last !== undefined && Node.isAwaitExpression(expressionOf(last));
    const semicolon = last ? last.getText().endsWith(';') : style.semicolon;
    const registerLine = `${awaited ? 'await ' : ''}${registration.call(parameterNames)}${semicolon ? ';' : ''}`;
    edits.push(registerEdit(body, last, registerLine, style));
    inserted.push({ what: 'register', code: registerLine });
  }

  // Apply (the caller saves).
  const text = applyEdits(source, edits);
  const lines = text.split(/\r?\n/);
  return {
    text,
    insertions: inserted.map((insertion) => ({
      ...insertion,
      line: lines.findIndex((line) => line.includes(insertion.code)) + 1,
    })),
  };
}

function importLineFor(registration: HookRegistration, style: CodeStyle): string {
  const specifier = `${style.quote}${registration.modulePath}${style.importExtension}${style.quote}`;
  return `import { ${registration.className} } from ${specifier}${style.semicolon ? ';' : ''}`;
}

function fail(target: Target, node: Node | undefined, problem: string): never {
  const { file, registration, paste } = target;
  const where = node ? `${file}:${node.getStartLineNumber()}` : file;
  throw new CodemodError(
    `${where}: ${problem}\n` +
      `Add these lines to ${file} by hand:\n` +
      `  after the last import:\n    ${paste[0]}\n` +
      `  inside ${registration.hook}(${registration.parameters.join(', ')}), after the other registrations:\n` +
      `    ${paste[1]}`,
    paste,
  );
}

function findHookOrThrow(target: Target): HookDeclaration {
  const { hook, kind } = target.registration;
  const found: HookDeclaration[] = [];
  target.sourceFile.forEachDescendant((node) => {
    if (isHookDeclaration(node) && nameOf(node) === hook) found.push(node);
  });
  if (found.length === 0) {
    fail(
      target,
      undefined,
      `found no ${hook} hook (a method, property or function named ${hook}), so the ${kind} was not registered.`,
    );
  }
  if (found.length > 1) {
    const lines = found.map((node) => node.getStartLineNumber()).join(', ');
    fail(
      target,
      found[1],
      `found ${found.length} declarations named ${hook} (lines ${lines}); cannot tell which one is the hook.`,
    );
  }
  return found[0];
}

function isHookDeclaration(node: Node): node is HookDeclaration {
  // Overload signatures (no body) come with their implementation; count that one only.
  if (Node.isMethodDeclaration(node) || Node.isFunctionDeclaration(node)) return node.hasBody();
  return Node.isPropertyDeclaration(node) || Node.isPropertyAssignment(node) || Node.isVariableDeclaration(node);
}

const COUNTS = ['no', 'one', 'two', 'three'];

function checkHookShapeOrThrow(node: HookDeclaration, target: Target): { body: Block; parameterNames: string[] } {
  const { hook, parameters: wanted } = target.registration;
  const fn = hookFunctionOrThrow(node, target);
  const body = fn.getBody();
  if (!body) fail(target, node, `${hook} has no body to add the registration to.`);
  if (!Node.isBlock(body)) {
    fail(target, node, `${hook} is an arrow function with an expression body; expected a block body { ... }.`);
  }
  const expected = `(${wanted.join(', ')})`;
  const count = COUNTS[wanted.length] ?? String(wanted.length);
  const parameters = fn.getParameters();
  if (parameters.length < wanted.length) {
    fail(target, node, `${hook} takes ${parameters.length} parameter(s); expected ${count}, ${expected}.`);
  }
  const names = parameters.slice(0, wanted.length).map((parameter) => parameter.getNameNode());
  if (!names.every(Node.isIdentifier)) {
    const plain = wanted.length === 1 ? 'a plain name' : `${count} plain names`;
    fail(target, node, `${hook} destructures its parameters; expected ${plain}, ${expected}.`);
  }
  return { body, parameterNames: names.map((name) => name.getText()) };
}

function hookFunctionOrThrow(node: HookDeclaration, target: Target): HookFunction {
  if (Node.isMethodDeclaration(node) || Node.isFunctionDeclaration(node)) return node;
  const initializer = node.getInitializer();
  const value = initializer ? unwrap(initializer) : undefined;
  if (Node.isArrowFunction(value) || Node.isFunctionExpression(value)) return value;
  const found = value ? `${value.getKindName()} \`${oneLine(value.getText())}\`` : 'no value';
  fail(
    target,
    node,
    `${target.registration.hook} is not a function written in this file (found ${found}); expected a method or a function.`,
  );
}

/** `(fn)`, `fn as X`, `fn satisfies X` -> `fn`. */
function unwrap(node: Expression): Expression {
  if (Node.isParenthesizedExpression(node) || Node.isAsExpression(node) || Node.isSatisfiesExpression(node)) {
    return unwrap(node.getExpression());
  }
  return node;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 37)}...` : flat;
}

/** Normalises a module path for comparison: no `.js`/`.ts`-like extension. */
function moduleKey(specifier: string): string {
  return specifier.replace(/\.(?:[cm]?[jt]s|tsx|jsx)$/, '');
}

/**
 * Whether the file imports the class from its module already. Any other top-level binding of the
 * name (an import from another module, or a declaration in the file) is a clash.
 */
function hasImportOrThrow(target: Target, specifierWanted: string): boolean {
  const { sourceFile, file, registration } = target;
  const { className, kind, modulePath } = registration;
  const clash = `; a new ${kind} class of that name, imported from '${specifierWanted}', would clash with it.`;
  let imported = false;
  for (const binding of topLevelNames(sourceFile)) {
    if (binding.name !== className) continue;
    const where = `${file}:${binding.statement.getStartLineNumber()}`;
    if (binding.importedFrom === undefined) {
      const text = oneLine(binding.statement.getText());
      throw new NameClashError(`${where}: ${className} is declared in ${file} already (\`${text}\`)${clash}`);
    }
    if (moduleKey(binding.importedFrom) !== moduleKey(modulePath)) {
      throw new NameClashError(`${where}: ${className} is already imported from '${binding.importedFrom}'${clash}`);
    }
    imported = true;
  }
  return imported;
}

/** Whether any `<x>.register(...)` call in the file mentions the class. */
function hasRegistration(sourceFile: SourceFile, className: string): boolean {
  let found = false;
  sourceFile.forEachDescendant((node, traversal) => {
    if (!Node.isCallExpression(node) || !isRegisterCallee(node.getExpression())) return;
    found = node.getArguments().some((argument) => mentions(argument, className));
    if (found) traversal.stop();
  });
  return found;
}

/** Whether `node` is, or holds, the identifier. */
function mentions(node: Node, identifier: string): boolean {
  const named = (candidate: Node) => Node.isIdentifier(candidate) && candidate.getText() === identifier;
  return named(node) || node.getFirstDescendant(named) !== undefined;
}

function isRegisterCallee(callee: Node): boolean {
  return Node.isPropertyAccessExpression(callee) && callee.getName() === 'register';
}

function expressionOf(statement: Statement): Expression | undefined {
  return Node.isExpressionStatement(statement) ? statement.getExpression() : undefined;
}

/** `x.register(...)` or `await x.register(...)` as a statement of its own. */
function isRegistration(statement: Statement): boolean {
  let expression = expressionOf(statement);
  if (Node.isAwaitExpression(expression)) expression = expression.getExpression();
  return Node.isCallExpression(expression) && isRegisterCallee(expression.getExpression());
}

function importEdit(sourceFile: SourceFile, line: string, style: CodeStyle): Edit {
  const last = sourceFile.getImportDeclarations().at(-1);
  if (last) return afterNode(last, line, style.eol);
  // No imports yet: put it on its own line before the first statement (and its JSDoc).
  const first = sourceFile.getStatements()[0];
  const start = lineStart(sourceFile.getFullText(), first.getStart(true));
  return { start, end: start, text: `${line}${style.eol}${style.eol}` };
}

function registerEdit(body: Block, lastRegistration: Statement | undefined, line: string, style: CodeStyle): Edit {
  if (lastRegistration) return afterNode(lastRegistration, line, style.eol);
  const statements = body.getStatements();
  const returned = statements.find(Node.isReturnStatement);
  if (returned) return beforeNode(returned, line, style.eol);
  const last = statements.at(-1);
  if (last) return afterNode(last, line, style.eol);
  return intoEmptyBlock(body, line, style);
}

/** On the line after `node` (with its indentation), or after it on the same line when more code follows. */
function afterNode(node: Node, line: string, eol: string): Edit {
  const source = node.getSourceFile().getFullText();
  const end = node.getEnd();
  const newline = source.indexOf('\n', end);
  const rest = source.slice(end, newline === -1 ? source.length : newline).replace(/\r$/, '');
  const indent = indentAt(source, node.getStart());
  // Code follows on the same line: without a semicolon of its own, `node` needs one to stay apart.
  if (!isBlankOrComment(rest)) {
    return { start: end, end, text: `${node.getText().endsWith(';') ? '' : ';'} ${line}` };
  }
  if (newline === -1) return { start: source.length, end: source.length, text: `${eol}${indent}${line}` };
  return { start: newline + 1, end: newline + 1, text: `${indent}${line}${eol}` };
}

/** On the line before `node` and the comments above it, or before it on the same line when code precedes it. */
function beforeNode(node: Node, line: string, eol: string): Edit {
  const source = node.getSourceFile().getFullText();
  const nodeStart = node.getStart();
  const [firstComment] = node.getLeadingCommentRanges();
  const start = firstComment ? firstComment.getPos() : nodeStart;
  const lineBegin = lineStart(source, start);
  if (source.slice(lineBegin, start).trim() !== '') {
    return { start: nodeStart, end: nodeStart, text: `${line}${line.endsWith(';') ? '' : ';'} ` };
  }
  return { start: lineBegin, end: lineBegin, text: `${indentAt(source, start)}${line}${eol}` };
}

/** Into `{}`: above the closing brace when it has a line of its own, else onto a new line. */
function intoEmptyBlock(body: Block, line: string, style: CodeStyle): Edit {
  const source = body.getSourceFile().getFullText();
  const open = body.getStart();
  const close = body.getEnd() - 1;
  const closeLine = lineStart(source, close);
  const closeIndent = indentAt(source, close);
  if (closeLine > open && source.slice(closeLine, close).trim() === '') {
    return { start: closeLine, end: closeLine, text: `${closeIndent}${style.indentUnit}${line}${style.eol}` };
  }
  // `{}` or `{ }` (maybe with a comment) on the hook's line: open it up.
  let start = close;
  while (start > open + 1 && /[ \t]/.test(source[start - 1])) start--;
  return {
    start,
    end: close,
    text: `${style.eol}${closeIndent}${style.indentUnit}${line}${style.eol}${closeIndent}`,
  };
}

function isBlankOrComment(rest: string): boolean {
  return /^\s*(?:\/\/.*|\/\*.*?\*\/\s*)?$/.test(rest);
}

function lineStart(source: string, position: number): number {
  return source.lastIndexOf('\n', position - 1) + 1;
}

/** The whitespace at the start of the line holding `position`. */
function indentAt(source: string, position: number): string {
  const begin = lineStart(source, position);
  return /^[ \t]*/.exec(source.slice(begin))?.[0] ?? '';
}

function applyEdits(source: string, edits: Edit[]): string {
  return [...edits]
    .sort((a, b) => b.start - a.start)
    .reduce((text, edit) => text.slice(0, edit.start) + edit.text + text.slice(edit.end), source);
}
