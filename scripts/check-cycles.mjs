// Import cycles among the compiled modules: `npm run check:cycles [-- DIR]` (default dist/).
// Follows the static relative imports and re-exports of every .js file (what runs at load
// time; type-only imports are gone after tsc), finds the strongly connected components
// (Tarjan) and prints each cycle; exits 1 if there is any.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = resolve(root, process.argv[2] ?? 'dist');
if (!existsSync(dir)) {
  console.error(`check-cycles: ${dir} does not exist (run \`npm run build:ts\` first)`);
  process.exit(2);
}

const walk = (d) => readdirSync(d).flatMap((name) => (statSync(join(d, name)).isDirectory() ? walk(join(d, name)) : [join(d, name)]));
const files = walk(dir).filter((f) => f.endsWith('.js'));
// `import … from './x.js'`, `import './x.js'`, `export … from './x.js'` (static forms only).
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;
const edges = new Map(
  files.map((f) => [f, [...readFileSync(f, 'utf8').matchAll(STATIC_IMPORT)].map((m) => resolve(dirname(f), m[1])).filter((t) => t !== f && existsSync(t))]),
);

// Tarjan's strongly connected components; a component of more than one module is a cycle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function connect(v) {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!index.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1) cycles.push(component);
}
for (const f of files) if (!index.has(f)) connect(f);

const name = (f) => relative(dir, f).split('\\').join('/');
if (cycles.length === 0) {
  console.log(`check-cycles: no import cycles among ${files.length} modules in ${relative(root, dir) || dir}`);
} else {
  for (const c of cycles) console.log(`import cycle: ${c.map(name).sort().join(' <-> ')}`);
  console.log(`check-cycles: ${cycles.length} import cycle(s) in ${relative(root, dir) || dir}`);
  process.exit(1);
}
