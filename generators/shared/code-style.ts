import type { SourceFile } from 'ts-morph';

/** How a file writes its code, so that added lines look like the lines around them. */
export interface CodeStyle {
  /** `\n` or `\r\n`. */
  eol: string;
  /** The quote of import specifiers. */
  quote: "'" | '"';
  /** Whether statements end with `;`. */
  semicolon: boolean;
  /** One level of indentation: a tab, or 2 or 4 spaces. */
  indentUnit: string;
  /** The extension of relative imports: `.js` (NodeNext), `.ts`, or none (bundlers). */
  importExtension: string;
}

/**
 * Reads the style of a file from its imports and indentation. Without imports to go by:
 * single quotes, semicolons and `.js` extensions, as in the apps create-loco-app writes.
 */
export function detectStyle(sourceFile: SourceFile): CodeStyle {
  const source = sourceFile.getFullText();
  const imports = sourceFile.getImportDeclarations();
  const last = imports.at(-1);
  const quote = last?.getModuleSpecifier().getText().startsWith('"') ? '"' : "'";
  const semicolon = last ? last.getText().endsWith(';') : true;
  return {
    eol: source.includes('\r\n') ? '\r\n' : '\n',
    quote,
    semicolon,
    indentUnit: detectIndentUnit(source),
    importExtension: detectImportExtension(imports.map((declaration) => declaration.getModuleSpecifierValue())),
  };
}

/** Tabs when any line is indented with a tab, else the smallest indentation found (2 when none). */
export function detectIndentUnit(source: string): string {
  let smallest = Infinity;
  for (const line of source.split(/\r?\n/)) {
    const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
    const rest = line.slice(indent.length);
    // Blank lines and the ` * ` lines of block comments say nothing about indentation.
    if (indent === '' || rest === '' || rest.startsWith('*')) continue;
    if (indent.startsWith('\t')) return '\t';
    smallest = Math.min(smallest, indent.length);
  }
  return smallest === Infinity ? '  ' : ' '.repeat(smallest);
}

/** The extension the file's relative imports use, the last one with a say deciding. */
export function detectImportExtension(specifiers: string[]): string {
  for (const specifier of specifiers.filter((s) => s.startsWith('.')).reverse()) {
    const code = /\.[cm]?[jt]s$/.exec(specifier);
    if (code) return code[0];
    // `./x.json`, `./x.css` tell nothing; `./workers/downloader` means no extension.
    if (!/\.[A-Za-z0-9]+$/.test(specifier.split('/').pop() ?? '')) return '';
  }
  return '.js';
}
