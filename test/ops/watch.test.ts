// run --watch: a base that changes while mounted is reconciled and remounted; READY=1 reaches systemd.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runOverlay, type RunResult } from '../../src/ops/run.js';
import { watchBase, type Watch } from '../../src/ops/watch.js';
import { createNotifier } from '../../src/systemd/notify.js';
import { cli, makeScratch, type Scratch } from '../mount/scratch.js';
import { listenNotify, type NotifyListener } from '../systemd/notify-listener.js';

let s: Scratch;
let watch: Watch | undefined;
let listener: NotifyListener | undefined;

beforeEach(() => {
  s = makeScratch();
  s.write('usr/lib/opt/app/bin/tool', 'img1\n');
  s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/usr/lib/opt\n');
});
afterEach(async () => {
  await watch?.close();
  watch = undefined;
  await listener?.close();
  listener = undefined;
  await s.cleanup();
});

describe('run --watch', () => {
  it('reloads when the base changes while mounted', async () => {
    const notifier = createNotifier({ env: {} });
    const ov = s.ctx().overlay('opt');
    await runOverlay(ov, s.log, { notifier });
    fs.writeFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'local\n');
    const reloads: RunResult[] = [];
    const errors: unknown[] = [];
    watch = await watchBase(ov, s.log, { notifier, settleMs: 200, onReload: (r) => reloads.push(r), onError: (e) => errors.push(e) });
    s.write('usr/lib/opt/app/bin/tool', 'img2\n');
    for (let i = 0; i < 100 && reloads.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(errors).toEqual([]);
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toMatchObject({ reconciled: true, mounted: true, changed: true, deferred: false });
    expect(fs.readFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'utf8')).toBe('img2\n');
    expect(s.log.events.map((e) => e.event)).toContain('watch.reload');
  });

  it('under systemd: READY=1 after the mount, STATUS= progress, exit once the manifest is recorded', async () => {
    const sock = path.join(s.root, 'notify');
    listener = await listenNotify(sock);
    const r = await cli(s.root, ['run', 'opt'], { NOTIFY_SOCKET: sock });
    expect(r.exitCode).toBe(0);
    await listener.waitFor((m) => m.includes('recorded'));
    // systemd-notify names the main PID and adds a BARRIER=1 after each message
    const received = listener.received.filter((m) => m !== 'BARRIER=1').map((m) => m.replace(/^MAINPID=\d+\|/, ''));
    const ready = received.findIndex((m) => m.startsWith('READY=1'));
    expect(received[ready]).toBe(`READY=1|STATUS=mounted /opt`);
    expect(received.at(-1)).toMatch(/^STATUS=mounted \/opt; manifest of tree:[0-9a-f]{64} recorded$/);
    expect(received.slice(ready + 1, -1).every((m) => m.startsWith('STATUS=indexing the base for the next update'))).toBe(true);
  });
});
