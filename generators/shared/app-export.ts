import type { SourceFile } from 'ts-morph';
import { parseTypeScript } from './syntax.js';
import { Node } from './ts-morph.js';

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

/**
 * The names a file exports, `default` included (an `export =` counts as a default export), from
 * its `export` keywords and export declarations: no type checker.
 */
function exportedNames(sourceFile: SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of sourceFile.getStatements()) {
    if (Node.isExportAssignment(statement)) {
      names.add('default');
    } else if (Node.isExportDeclaration(statement)) {
      for (const specifier of statement.getNamedExports()) {
        const exported = specifier.getAliasNode() ?? specifier.getNameNode();
        names.add(Node.isStringLiteral(exported) ? exported.getLiteralValue() : exported.getText());
      }
    } else if (Node.isExportable(statement) && statement.hasExportKeyword()) {
      if (statement.hasDefaultKeyword()) names.add('default');
      else if (Node.isVariableStatement(statement)) {
        for (const declaration of statement.getDeclarations()) {
          const name = declaration.getNameNode();
          if (Node.isIdentifier(name)) names.add(name.getText());
        }
      } else if (Node.hasName(statement)) {
        names.add(statement.getName());
      }
    }
  }
  return names;
}
