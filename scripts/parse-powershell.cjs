// Parses PowerShell from standard input with tree-sitter-powershell and prints the syntax errors'
// positions as JSON ([] when it parses cleanly). A child process, because web-tree-sitter loads
// its WebAssembly with a dynamic import that jest's module sandbox refuses.
const { Parser, Language } = require('web-tree-sitter');

async function main() {
  const source = require('node:fs').readFileSync(0, 'utf8');
  await Parser.init();
  const parser = new Parser();
  parser.setLanguage(await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')));
  const tree = parser.parse(source);
  const errors = [];
  const visit = (node) => {
    if (node.isError || node.isMissing) errors.push({ row: node.startPosition.row + 1, column: node.startPosition.column + 1, type: node.type });
    for (const child of node.children) visit(child);
  };
  if (tree.rootNode.hasError) visit(tree.rootNode);
  process.stdout.write(JSON.stringify(errors));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(2);
});
