#!/usr/bin/env node
// The `mlcost` command of an npm install: runs the TypeScript sources through tsx's loader, so it always runs the
// code beside it (the container image runs the compiled build directly: node dist/cli/main.js).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
