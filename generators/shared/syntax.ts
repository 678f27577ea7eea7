import type { SourceFile, Statement, ts as TypeScript } from 'ts-morph';
import { Node, Project, ts } from './ts-morph.js';

/**
 * Parses one TypeScript file on its own, in memory with ts-morph: no tsconfig, no lib files, no
 * imports followed, and no type checker is ever made; the codemod reads syntax only.
 */
export function parseTypeScript(source: string, fileName = 'app.ts'): SourceFile {
  const project = new Project({
    useInMemoryFileSystem: true,
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
    // TypeScript's lib files are for the type checker, and would cost about a second to load.
    skipLoadingLibFiles: true,
  });
  return project.createSourceFile(fileName, source);
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
  const [first] = syntacticDiagnostics(sourceFile);
  if (!first) return undefined;
  return {
    line: first.start === undefined ? 1 : sourceFile.getLineAndColumnAtPos(first.start).line,
    message: ts.flattenDiagnosticMessageText(first.messageText, ' '),
  };
}

/**
 * The parser's diagnostics, which it leaves on the compiler node as `parseDiagnostics`: for a
 * TypeScript file, all of its syntactic diagnostics (`program.getSyntacticDiagnostics` returns
 * this very list, after building a program, some 10 ms more). The field is not in TypeScript's
 * public types, so its absence is an error rather than a file taken to parse cleanly.
 */
function syntacticDiagnostics(sourceFile: SourceFile): readonly TypeScript.Diagnostic[] {
  const { parseDiagnostics } = sourceFile.compilerNode as TypeScript.SourceFile & {
    parseDiagnostics?: TypeScript.Diagnostic[];
  };
  if (!Array.isArray(parseDiagnostics)) {
    throw new Error(
      `The TypeScript that ts-morph bundles (${ts.version}) leaves no parseDiagnostics on a parsed file, so ` +
        "loco-gen cannot tell whether src/app.ts parses. Use the ts-morph version in loco-ts's package.json.",
    );
  }
  return parseDiagnostics;
}

/** The name of a declaration when it is a plain name (identifier, `#private`, or string literal). */
export function nameOf(node: Node): string | undefined {
  const name = (node.compilerNode as TypeScript.Node & { name?: TypeScript.Node }).name;
  if (name === undefined) return undefined;
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
 * Every name a file binds at its top level, in the order of its statements: imported names
 * (default, named with their local alias, namespace) and the names of its own classes,
 * functions, variables, enums, interfaces, types and namespaces.
 */
export function topLevelNames(sourceFile: SourceFile): TopLevelName[] {
  return sourceFile.getStatements().flatMap((statement): TopLevelName[] => {
    if (Node.isImportDeclaration(statement)) {
      const importedFrom = statement.getModuleSpecifierValue();
      const bound = [
        statement.getDefaultImport(),
        statement.getNamespaceImport(),
        ...statement.getNamedImports().map((specifier) => specifier.getAliasNode() ?? specifier.getNameNode()),
      ];
      return bound.flatMap((name) => (name ? [{ name: name.getText(), statement, importedFrom }] : []));
    }
    if (Node.isVariableStatement(statement)) {
      return statement
        .getDeclarations()
        .map((declaration) => declaration.getNameNode())
        .filter(Node.isIdentifier)
        .map((name) => ({ name: name.getText(), statement }));
    }
    if (
      Node.isClassDeclaration(statement) ||
      Node.isFunctionDeclaration(statement) ||
      Node.isEnumDeclaration(statement) ||
      Node.isInterfaceDeclaration(statement) ||
      Node.isTypeAliasDeclaration(statement) ||
      Node.isModuleDeclaration(statement)
    ) {
      const name = nameOf(statement);
      return name ? [{ name, statement }] : [];
    }
    return [];
  });
}

/**
 * Where `source` declares `name` at its top level (imports aside): the 1-based line of each
 * declaration. For a generator's check that a class name is free in the files beside its own.
 */
export function declarationLines(source: string, fileName: string, name: string): number[] {
  return topLevelNames(parseTypeScript(source, fileName))
    .filter((binding) => binding.name === name && binding.importedFrom === undefined)
    .map((binding) => binding.statement.getStartLineNumber());
}
