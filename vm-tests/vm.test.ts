// Runs every scenario in vm-tests/scenarios in order, each phase a test (a boot of the guest).
// VM_SCENARIOS=01,03 runs only the scenarios whose file names start with those prefixes.
// VM_KEEP=1 keeps the disks and consoles of passing scenarios under vm-tests/.cache/run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { guestImage, type GuestImage } from './lib/image.js';
import { ScenarioRun, type PhaseReport } from './lib/driver.js';
import type { Scenario } from './lib/scenario.js';

const dir = path.join(import.meta.dirname, 'scenarios');
const only = process.env.VM_SCENARIOS?.split(',').filter(Boolean);
const files = fs
  .readdirSync(dir)
  .filter((f) => /^\d\d-.*\.ts$/.test(f))
  .filter((f) => only === undefined || only.some((p) => f.startsWith(p)))
  .sort();
const scenarios: Scenario[] = [];
for (const f of files) scenarios.push(((await import(path.join(dir, f))) as { default: Scenario }).default);

let image: GuestImage | undefined;
const reports: Array<PhaseReport & { scenario: string }> = [];

beforeAll(async () => {
  // Scenarios with root images of their own (slots) do not boot the suite's guest image.
  if (scenarios.every((s) => s.slots !== undefined)) return;
  const t = Date.now();
  image = await guestImage();
  console.log(`guest image ready in ${((Date.now() - t) / 1000).toFixed(1)} s: ${image.dir}`);
});

afterAll(() => {
  for (const r of reports) {
    console.log([`${r.scenario} / ${r.phase}: ${r.outcome} in ${(r.ms / 1000).toFixed(1)} s`, ...(r.retried === undefined ? [] : [`  retried: ${r.retried}`]), ...r.notes.map((n) => `  ${n}`)].join('\n'));
  }
});

for (const s of scenarios) {
  describe.sequential(s.name, () => {
    let runner: ScenarioRun;
    let ok = true;
    let failedPhase = 0;
    beforeAll(async () => {
      runner = new ScenarioRun(image, s);
      await runner.prepare();
      if (s.slots !== undefined) console.log(`${s.name}: its images ready in ${(runner.imageMs / 1000).toFixed(1)} s`);
    });
    afterAll(() => {
      if (ok && !process.env.VM_KEEP) runner.cleanup();
    });
    s.phases.forEach((p, i) => {
      it(`phase ${i + 1}: ${p.name}`, async () => {
        // phases build on each other: after a failure the later ones fail without booting
        if (!ok) throw new Error(`not booted: phase ${failedPhase} of ${s.name} failed`);
        try {
          reports.push({ scenario: s.name, ...(await runner.phase(i)) });
        } catch (err) {
          ok = false;
          failedPhase = i + 1;
          throw err;
        }
      });
    });
  });
}
