import {
  Node,
  Project,
  SyntaxKind,
  type ArrowFunction,
  type Block,
  type FunctionDeclaration,
  type FunctionExpression,
  type MethodDeclaration,
  type SourceFile,
  type Statement,
} from 'ts-morph';
import { detectStyle, type CodeStyle } from './code-style.js';

/** The hook the codemod edits, as in Loco's `connect_workers`. */
export const HOOK = 'connectWorkers';

/** The worker to register in the app. */
export interface WorkerRegistration {
  /** The worker class: `ReportWorkerWorker`. */
  className: string;
  /** Its module relative to the app file, without extension: `./workers/report_worker`. */
  modulePath: string;
}

/** One line the codemod added. */
export interface Insertion {
  what: 'import' | 'register';
  /** 1-based line number in the new text. */
  line: number;
  /** The line as written, without indentation or line ending. */
  code: string;
}

/** The outcome of `addWorkerToApp`: the new text, and what was added (nothing when already there). */
export interface CodemodResult {
  text: string;
  insertions: Insertion[];
}

/**
 * The app file does not have a shape the codemod can edit. The message names the file and the
 * construct; `pasteLines` are the exact lines to add by hand.
 */
export class CodemodError extends Error {
  override name = 'CodemodError';

  constructor(
    message: string,
    /** The import line, then the register line. */
    readonly pasteLines: [string, string],
  ) {
    super(message);
  }
}

type HookFunction = MethodDeclaration | FunctionDeclaration | ArrowFunction | FunctionExpression;

/** A hook whose shape was checked: a block body and two plain parameters. */
interface CheckedHook {
  body: Block;
  ctxName: string;
  queueName: string;
}

/** A text edit: replace `[start, end)` with `text`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Adds `import { X } from './workers/x.js'` after the last import and `queue.register(X.build(ctx))`
 * inside `connectWorkers`, after the registrations already there, in the file's own style
 * (quotes, semicolons, indentation, line endings). Adds only what is missing, so a second run
 * changes nothing. Every other character of the file stays as it was.
 *
 * Finds the hook as a class method or property, an object-literal method or property (arrow or
 * function expression), a function declaration or a variable holding a function.
 *
 * @param source the text of the app file
 * @param file the file's path, for messages
 * @throws CodemodError when there is no single `connectWorkers` of a shape it can edit
 */
export function addWorkerToApp(source: string, file: string, worker: WorkerRegistration): CodemodResult {
  // Find.
  const sourceFile = parse(source);
  const style = detectStyle(sourceFile, source);
  const importLine = importLineFor(worker, style);
  const paste: [string, string] = [importLine, registerLineFor(worker, 'ctx', 'queue', style.semicolon, false)];
  const hook = findConnectWorkersOrThrow(sourceFile, file, paste);

  // Check its shape.
  const { body, ctxName, queueName } = checkHookShapeOrThrow(hook, file, paste);

  // Insert what is absent.
  const edits: Edit[] = [];
  const inserted: Array<Omit<Insertion, 'line'>> = [];
  if (!hasImportOrThrow(sourceFile, worker, `${worker.modulePath}${style.importExtension}`, file, paste)) {
    edits.push(importEdit(sourceFile, source, importLine, style));
    inserted.push({ what: 'import', code: importLine });
  }
  if (!hasRegistration(sourceFile, worker.className)) {
    const registrations = body.getStatements().filter(isRegistration);
    const last = registrations.at(-1);
    const awaited = last !== undefined && Node.isAwaitExpression(expressionOf(last));
    const semicolon = last ? last.getText().endsWith(';') : style.semicolon;
    const registerLine = registerLineFor(worker, ctxName, queueName, semicolon, awaited);
    edits.push(registerEdit(body, last, source, registerLine, style));
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

/** Parses one file on its own, in memory: no tsconfig, no imports followed. */
export function parse(source: string): SourceFile {
  const project = new Project({
    useInMemoryFileSystem: true,
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    // The codemod reads one file's syntax and exports; TypeScript's lib files cost ~1 s to load.
    skipLoadingLibFiles: true,
  });
  return project.createSourceFile('/app.ts', source);
}

function importLineFor(worker: WorkerRegistration, style: CodeStyle): string {
  const specifier = `${style.quote}${worker.modulePath}${style.importExtension}${style.quote}`;
  return `import { ${worker.className} } from ${specifier}${style.semicolon ? ';' : ''}`;
}

function registerLineFor(
  worker: WorkerRegistration,
  ctxName: string,
  queueName: string,
  semicolon: boolean,
  awaited: boolean,
): string {
  return `${awaited ? 'await ' : ''}${queueName}.register(${worker.className}.build(${ctxName}))${semicolon ? ';' : ''}`;
}

function fail(file: string, node: Node | undefined, problem: string, paste: [string, string]): never {
  const where = node ? `${file}:${node.getStartLineNumber()}` : file;
  throw new CodemodError(
    `${where}: ${problem}\n` +
      `Add these lines to ${file} by hand:\n` +
      `  after the last import:\n    ${paste[0]}\n` +
      `  inside ${HOOK}(ctx, queue), after the other registrations:\n    ${paste[1]}`,
    paste,
  );
}

function findConnectWorkersOrThrow(sourceFile: SourceFile, file: string, paste: [string, string]): Node {
  const found: Node[] = [];
  sourceFile.forEachDescendant((node) => {
    if (
      (Node.isMethodDeclaration(node) ||
        Node.isPropertyDeclaration(node) ||
        Node.isPropertyAssignment(node) ||
        Node.isFunctionDeclaration(node) ||
        Node.isVariableDeclaration(node)) &&
      nameOf(node) === HOOK &&
      // Overload signatures of a method come with their implementation; count that one only.
      !((Node.isMethodDeclaration(node) || Node.isFunctionDeclaration(node)) && node.isOverload())
    ) {
      found.push(node);
    }
  });
  if (found.length === 0) {
    fail(
      file,
      undefined,
      `found no ${HOOK} hook (a method, property or function named ${HOOK}), so the worker was not registered.`,
      paste,
    );
  }
  if (found.length > 1) {
    const lines = found.map((node) => node.getStartLineNumber()).join(', ');
    fail(
      file,
      found[1],
      `found ${found.length} declarations named ${HOOK} (lines ${lines}); cannot tell which one is the hook.`,
      paste,
    );
  }
  return found[0];
}

function nameOf(node: Node): string | undefined {
  const nameNode = (node as Node & { getNameNode?: () => Node | undefined }).getNameNode?.();
  if (!nameNode) return undefined;
  if (Node.isIdentifier(nameNode) || Node.isPrivateIdentifier(nameNode)) return nameNode.getText();
  if (Node.isStringLiteral(nameNode) || Node.isNoSubstitutionTemplateLiteral(nameNode))
    return nameNode.getLiteralText();
  return undefined;
}

function checkHookShapeOrThrow(node: Node, file: string, paste: [string, string]): CheckedHook {
  const hook = hookFunctionOrThrow(node, file, paste);
  const body = hook.getBody();
  if (!body) fail(file, node, `${HOOK} has no body to add the registration to.`, paste);
  if (!Node.isBlock(body)) {
    fail(file, node, `${HOOK} is an arrow function with an expression body; expected a block body { ... }.`, paste);
  }
  const parameters = hook.getParameters();
  if (parameters.length < 2) {
    fail(file, node, `${HOOK} takes ${parameters.length} parameter(s); expected two, (ctx, queue).`, paste);
  }
  const [ctx, queue] = parameters.map((parameter) => parameter.getNameNode());
  if (!Node.isIdentifier(ctx) || !Node.isIdentifier(queue)) {
    fail(file, node, `${HOOK} destructures its parameters; expected two plain names, (ctx, queue).`, paste);
  }
  return { body, ctxName: ctx.getText(), queueName: queue.getText() };
}

function hookFunctionOrThrow(node: Node, file: string, paste: [string, string]): HookFunction {
  if (Node.isMethodDeclaration(node) || Node.isFunctionDeclaration(node)) return node;
  const initializer = (node as Node & { getInitializer?: () => Node | undefined }).getInitializer?.();
  const value = initializer ? unwrap(initializer) : undefined;
  if (value && (Node.isArrowFunction(value) || Node.isFunctionExpression(value))) return value;
  const found = value ? `${value.getKindName()} \`${oneLine(value.getText())}\`` : 'no value';
  fail(
    file,
    node,
    `${HOOK} is not a function written in this file (found ${found}); expected a method or a function.`,
    paste,
  );
}

/** `(fn)`, `fn as X`, `fn satisfies X` -> `fn`. */
function unwrap(node: Node): Node {
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

function hasImportOrThrow(
  sourceFile: SourceFile,
  worker: WorkerRegistration,
  specifierWanted: string,
  file: string,
  paste: [string, string],
): boolean {
  for (const declaration of sourceFile.getImportDeclarations()) {
    const names = [
      declaration.getDefaultImport()?.getText(),
      ...declaration.getNamedImports().map((named) => (named.getAliasNode() ?? named.getNameNode()).getText()),
    ];
    if (!names.includes(worker.className)) continue;
    const specifier = declaration.getModuleSpecifierValue();
    if (moduleKey(specifier) === moduleKey(worker.modulePath)) return true;
    fail(
      file,
      declaration,
      `${worker.className} is already imported from '${specifier}', not from '${specifierWanted}'; ` +
        'rename one of the two classes.',
      paste,
    );
  }
  return false;
}

/** Whether any `<x>.register(...)` call in the file mentions the worker class. */
function hasRegistration(sourceFile: SourceFile, className: string): boolean {
  return sourceFile.getDescendantsOfKind(SyntaxKind.CallExpression).some((call) => {
    const callee = call.getExpression();
    return (
      Node.isPropertyAccessExpression(callee) &&
      callee.getName() === 'register' &&
      call
        .getArguments()
        .some(
          (argument) =>
            (Node.isIdentifier(argument) && argument.getText() === className) ||
            argument
              .getDescendantsOfKind(SyntaxKind.Identifier)
              .some((identifier) => identifier.getText() === className),
        )
    );
  });
}

function expressionOf(statement: Statement): Node | undefined {
  return Node.isExpressionStatement(statement) ? statement.getExpression() : undefined;
}

/** `queue.register(...)` or `await queue.register(...)` as a statement of its own. */
function isRegistration(statement: Statement): boolean {
  let expression = expressionOf(statement);
  if (expression && Node.isAwaitExpression(expression)) expression = expression.getExpression();
  if (!expression || !Node.isCallExpression(expression)) return false;
  const callee = expression.getExpression();
  return Node.isPropertyAccessExpression(callee) && callee.getName() === 'register';
}

function importEdit(sourceFile: SourceFile, source: string, line: string, style: CodeStyle): Edit {
  const last = sourceFile.getImportDeclarations().at(-1);
  if (last) return afterNode(source, last, line, style.eol);
  // No imports yet: put it on its own line before the first statement (and its JSDoc).
  const first = sourceFile.getStatements()[0];
  const start = lineStart(source, first.getStart(true));
  return { start, end: start, text: `${line}${style.eol}${style.eol}` };
}

function registerEdit(
  body: Block,
  lastRegistration: Statement | undefined,
  source: string,
  line: string,
  style: CodeStyle,
): Edit {
  if (lastRegistration) return afterNode(source, lastRegistration, line, style.eol);
  const statements = body.getStatements();
  const returned = statements.find((statement) => Node.isReturnStatement(statement));
  if (returned) return beforeNode(source, returned, line, style.eol);
  const last = statements.at(-1);
  if (last) return afterNode(source, last, line, style.eol);
  return intoEmptyBlock(body, source, line, style);
}

/** On the line after `node` (with its indentation), or after it on the same line when more code follows. */
function afterNode(source: string, node: Node, line: string, eol: string): Edit {
  const end = node.getEnd();
  const newline = source.indexOf('\n', end);
  const rest = source.slice(end, newline === -1 ? source.length : newline).replace(/\r$/, '');
  const indent = indentAt(source, node.getStart());
  // Code follows on the same line: without a semicolon of its own, `node` needs one to stay apart.
  if (!isBlankOrComment(rest)) return { start: end, end, text: `${node.getText().endsWith(';') ? '' : ';'} ${line}` };
  if (newline === -1) return { start: source.length, end: source.length, text: `${eol}${indent}${line}` };
  return { start: newline + 1, end: newline + 1, text: `${indent}${line}${eol}` };
}

/** On the line before `node` and the comments above it, or before it on the same line when code precedes it. */
function beforeNode(source: string, node: Node, line: string, eol: string): Edit {
  const comments = node.getLeadingCommentRanges();
  const start = comments.length > 0 ? comments[0].getPos() : node.getStart();
  const lineBegin = lineStart(source, start);
  if (source.slice(lineBegin, start).trim() !== '') {
    return { start: node.getStart(), end: node.getStart(), text: `${line}${line.endsWith(';') ? '' : ';'} ` };
  }
  return { start: lineBegin, end: lineBegin, text: `${indentAt(source, start)}${line}${eol}` };
}

/** Into `{}`: above the closing brace when it has a line of its own, else onto a new line. */
function intoEmptyBlock(body: Block, source: string, line: string, style: CodeStyle): Edit {
  const close = body.getEnd() - 1;
  const closeLine = lineStart(source, close);
  const closeIndent = indentAt(source, close);
  if (closeLine > body.getStart() && source.slice(closeLine, close).trim() === '') {
    return { start: closeLine, end: closeLine, text: `${closeIndent}${style.indentUnit}${line}${style.eol}` };
  }
  // `{}` or `{ }` (maybe with a comment) on the hook's line: open it up.
  let start = close;
  while (start > body.getStart() + 1 && /[ \t]/.test(source[start - 1])) start--;
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
