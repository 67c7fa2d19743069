import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const top = path.resolve(import.meta.dirname, '..');

describe('README', () => {
  it('starts with the demo and test commands, and CI runs exactly the test command', () => {
    const readme = fs.readFileSync(path.join(top, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n');
    const [demo, test] = block.map((l) => l.replace(/\s+#.*$/, '').trim());
    expect(demo).toMatch(/npm run demo$/);
    const ci = fs.readFileSync(path.join(top, '.ci/run'), 'utf8').trim().split('\n');
    expect(ci[ci.length - 1]).toBe(test);
  });
});
