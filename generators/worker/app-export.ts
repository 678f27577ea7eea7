import { Node } from 'ts-morph';
import { parse } from './codemod.js';

/**
 * The line a test in `tests/workers/` imports the app with: `import { App } from ...` when the
 * app file exports `App` by name, `import App from ...` when it has a default export instead.
 */
export function appImportLine(appSource: string, specifier = '../../src/app.js'): string {
  const sourceFile = parse(appSource);
  const exported = sourceFile.getExportedDeclarations();
  if (!exported.has('App') && exported.has('default')) return `import App from '${specifier}';`;
  if (!exported.has('App') && sourceFile.getStatements().some((statement) => Node.isExportAssignment(statement))) {
    return `import App from '${specifier}';`;
  }
  return `import { App } from '${specifier}';`;
}
