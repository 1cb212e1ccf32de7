#!/usr/bin/env node
// `npm run datasets -- <cifar10|pets|all> [--dir DIR] [--mirror URL]`: downloads the official
// archives into the data folder (--dir / --data-dir, else $SEPCONV_DATA, else ./datasets).
import { parseArgs } from 'node:util';

const usage = `usage: npm run datasets -- <cifar10|pets|all> [--dir DIR] [--mirror URL]
  cifar10   CIFAR-10, binary version (170 MB)
  pets      Oxford-IIIT Pet images and annotations (790 MB)
  --dir, --data-dir DIR   the data folder (default: $SEPCONV_DATA, else ./datasets)
  --mirror URL            fetch the same archive names from this base URL`;

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string' }, 'data-dir': { type: 'string' }, mirror: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
const names = { cifar10: ['cifar10'], pets: ['oxford-pets'], 'oxford-pets': ['oxford-pets'], all: ['cifar10', 'oxford-pets'] };
const wanted = args.positionals.length === 1 ? names[args.positionals[0]] : undefined;
if (args.values.help || wanted === undefined) {
  console.error(usage);
  process.exit(args.values.help ? 0 : 2);
}

// The download code only, not the package entry: no native addon needed to fetch data.
const { download } = await import('../dist/data/download.js');
const { resolveDataDir } = await import('../dist/data/paths.js');
const { dir, from } = resolveDataDir(args.values.dir ?? args.values['data-dir']);
console.error(`data folder: ${dir} (from ${from})`);
try {
  for (const name of wanted) console.error(`ready: ${await download(name, { dir, mirror: args.values.mirror })}`);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
