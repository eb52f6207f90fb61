#!/usr/bin/env node
// Entry point of the kernel-gateway and jupyter-kernelgateway commands.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
