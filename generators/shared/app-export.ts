import type { Node, SourceFile, Statement } from 'typescript';
import { parseTypeScript } from './syntax.js';
import { ts } from './typescript.js';

/**
 * The line a generated test imports the app with: `import { App } from ...` when the app file
 * exports `App` by name, `import App from ...` when it has a default export (or `export =`)
 * instead. Read from the file's syntax alone, as `loadApp` picks `App`, else the default export.
 */
export function appImportLine(appSource: string, specifier = '../../src/app.js'): string {
  const exported = exportedNames(parseTypeScript(appSource));
  if (!exported.has('App') && exported.has('default')) return `import App from '${specifier}';`;
  return `import { App } from '${specifier}';`;
}

/** The names a file exports, `default` included (an `export =` counts as a default export). */
function exportedNames(sourceFile: SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of sourceFile.statements) {
    if (ts.isExportAssignment(statement)) {
      names.add('default');
    } else if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (clause && ts.isNamedExports(clause)) for (const element of clause.elements) names.add(element.name.text);
    } else if (ts.canHaveModifiers(statement)) {
      const modifiers = ts.getModifiers(statement) ?? [];
      if (!modifiers.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)) continue;
      if (modifiers.some((modifier) => modifier.kind === ts.SyntaxKind.DefaultKeyword)) names.add('default');
      else if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
        }
      } else {
        const name = (statement as Statement & { name?: Node }).name;
        if (name && ts.isIdentifier(name)) names.add(name.text);
      }
    }
  }
  return names;
}
