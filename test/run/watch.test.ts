// run --watch: a base that changes while mounted is reconciled and remounted; READY=1 reaches systemd.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runOverlay, type RunResult } from '../../src/run/run.js';
import { watchBase, type Watch } from '../../src/run/watch.js';
import { createNotifier } from '../../src/systemd/notify.js';
import { cli, makeScratch, type Scratch } from '../mount/scratch.js';

let s: Scratch;
let watch: Watch | undefined;
let listener: ChildProcess | undefined;

beforeEach(() => {
  s = makeScratch();
  s.write('usr/lib/opt/app/bin/tool', 'img1\n');
  s.write('etc/state-overlay/opt.conf', '[Overlay]\nBase=/usr/lib/opt\n');
});
afterEach(async () => {
  await watch?.close();
  watch = undefined;
  if (listener && listener.exitCode === null) {
    listener.kill('SIGKILL');
    await new Promise((r) => listener!.once('exit', r));
  }
  await s.cleanup();
});

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("up", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
`;

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
    expect(reloads[0]).toMatchObject({ reconciled: true, mounted: true, deferred: false });
    expect(fs.readFileSync(path.join(ov.layout.target, 'app/bin/tool'), 'utf8')).toBe('img2\n');
    expect(s.log.events.map((e) => e.event)).toContain('watch.reload');
  });

  it('under systemd: READY=1 after the mount, STATUS= progress, exit once the manifest is recorded', async () => {
    const sock = path.join(s.root, 'notify');
    const received: string[] = [];
    listener = spawn('python3', ['-c', LISTENER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) =>
      listener!.stdout!.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n').filter(Boolean)) {
          if (line === 'up') resolve();
          else if (line !== 'BARRIER=1') received.push(line.replace(/^MAINPID=\d+\|/, ''));
        }
      }),
    );
    const r = await cli(s.root, ['run', 'opt'], { NOTIFY_SOCKET: sock });
    expect(r.exitCode).toBe(0);
    for (let i = 0; i < 50 && !received.some((m) => m.includes('recorded')); i++) await new Promise((res) => setTimeout(res, 20));
    const ready = received.findIndex((m) => m.startsWith('READY=1'));
    expect(received[ready]).toBe(`READY=1|STATUS=mounted /opt`);
    expect(received.at(-1)).toMatch(/^STATUS=mounted \/opt; manifest of tree:[0-9a-f]{64} recorded$/);
    expect(received.slice(ready + 1, -1).every((m) => m.startsWith('STATUS=indexing the base for the next update'))).toBe(true);
  });
});
