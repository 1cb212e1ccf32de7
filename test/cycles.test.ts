// No import cycles among the compiled modules (scripts/check-cycles.mjs, `npm run check:cycles`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/datasets.js';

const script = fileURLToPath(new URL('../scripts/check-cycles.mjs', import.meta.url));
const check = (dir?: string) => spawnSync(process.execPath, [script, ...(dir ? [dir] : [])], { encoding: 'utf8' });

describe('import cycles', () => {
  it('dist/ has none', () => {
    const run = check();
    expect(run.stdout).toMatch(/^check-cycles: no import cycles among \d+ modules in dist/);
    expect(run.status).toBe(0);
  });

  it('the check finds a cycle through re-exports and side-effect imports, and names its modules', async () => {
    const dir = await tempDir('cycles');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.js'), "import {\n  b,\n} from './sub/b.js';\nexport const a = () => b;\nexport const path = './c.js';\n");
    writeFileSync(join(dir, 'sub', 'b.js'), "export { c as b } from '../c.js';\n");
    writeFileSync(join(dir, 'c.js'), "import './a.js';\nexport const c = 1;\n");
    writeFileSync(join(dir, 'd.js'), "import { a } from './a.js';\n");
    const run = check(dir);
    expect(run.stdout).toContain('import cycle: a.js <-> c.js <-> sub/b.js');
    expect(run.stdout).toContain('1 import cycle(s)');
    expect(run.status).toBe(1);
  });
});
