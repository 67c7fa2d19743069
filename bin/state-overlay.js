#!/usr/bin/env node
// Entry point: the compiled program lives in dist/ (built by `npm ci` through `prepare`).
import '../dist/main.js';
