#!/usr/bin/env node
/** The `sepconv` bin (package.json "bin"). */
import '../tensor-methods.js'; // this entry runs models in-process (summary): attach Tensor's op methods
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
