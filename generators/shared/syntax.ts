import type { CompilerHost, Node, SourceFile, Statement } from 'typescript';
import { ts } from './typescript.js';

/**
 * Parses one TypeScript file on its own, in memory: no tsconfig, no imports followed, no type
 * checker. Parent links are set, so nodes can be read without passing the file around.
 */
export function parseTypeScript(source: string, fileName = 'app.ts'): SourceFile {
  return ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/** A syntax error: its 1-based line and TypeScript's message. */
export interface SyntaxProblem {
  line: number;
  message: string;
}

/**
 * The first syntax error TypeScript reports for a parsed file (its syntactic diagnostics, the
 * ones `tsc` prints before any type error), or undefined when the file parses cleanly.
 */
export function firstSyntaxError(sourceFile: SourceFile): SyntaxProblem | undefined {
  const host: CompilerHost = {
    getSourceFile: (name) => (name === sourceFile.fileName ? sourceFile : undefined),
    getDefaultLibFileName: () => 'lib.d.ts',
    writeFile: () => undefined,
    getCurrentDirectory: () => '/',
    getCanonicalFileName: (name) => name,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (name) => name === sourceFile.fileName,
    readFile: () => undefined,
  };
  // A program of this one file, without lib files or imports: enough for syntactic diagnostics,
  // and no type checker is ever created.
  const program = ts.createProgram({
    rootNames: [sourceFile.fileName],
    options: { noLib: true, noResolve: true, types: [] },
    host,
  });
  const [first] = program.getSyntacticDiagnostics(sourceFile);
  if (!first) return undefined;
  return {
    line: first.start === undefined ? 1 : lineOf(sourceFile, first.start),
    message: ts.flattenDiagnosticMessageText(first.messageText, ' '),
  };
}

/** The 1-based line of a position. */
export function lineOf(sourceFile: SourceFile, position: number): number {
  return sourceFile.getLineAndCharacterOfPosition(position).line + 1;
}

/** The 1-based line a node starts on (its first token, comments excluded). */
export function startLine(node: Node): number {
  const sourceFile = node.getSourceFile();
  return lineOf(sourceFile, node.getStart(sourceFile));
}

/** Calls `visit` on every node under `node`, depth first, in source order. */
export function forEachDescendant(node: Node, visit: (node: Node) => void): void {
  ts.forEachChild(node, (child) => {
    visit(child);
    forEachDescendant(child, visit);
  });
}

/** The name of a declaration when it is a plain name (identifier, `#private`, or string literal). */
export function nameOf(node: Node): string | undefined {
  const name = (node as Node & { name?: Node }).name;
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) return name.text;
  return undefined;
}

/** A name a file binds at its top level: by an import, or by a declaration of its own. */
export interface TopLevelName {
  name: string;
  /** The import or declaration statement. */
  statement: Statement;
  /** The module it is imported from; undefined for a declaration of the file's own. */
  importedFrom?: string;
}

/**
 * Every name a file binds at its top level: imported names (default, named with their local
 * alias, namespace) and the names of its own classes, functions, variables, enums, interfaces,
 * types and namespaces.
 */
export function topLevelNames(sourceFile: SourceFile): TopLevelName[] {
  const names: TopLevelName[] = [];
  for (const statement of sourceFile.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const importedFrom = ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : '';
      const bindings = clause?.namedBindings;
      const bound = [
        clause?.name,
        ...(bindings === undefined
          ? []
          : ts.isNamedImports(bindings)
            ? bindings.elements.map((element) => element.name)
            : [bindings.name]),
      ];
      for (const identifier of bound) if (identifier) names.push({ name: identifier.text, statement, importedFrom });
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.push({ name: declaration.name.text, statement });
      }
    } else if (
      ts.isClassDeclaration(statement) ||
      ts.isFunctionDeclaration(statement) ||
      ts.isEnumDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isModuleDeclaration(statement)
    ) {
      const name = nameOf(statement);
      if (name) names.push({ name, statement });
    }
  }
  return names;
}
