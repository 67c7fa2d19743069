// READY=1 and STATUS= reach a real notify socket (a datagram listener standing in for systemd).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLog } from '../../src/log/logger.js';
import { createNotifier, notifyArgs, statusLine } from '../../src/systemd/notify.js';
import { listenNotify, type NotifyListener } from './notify-listener.js';

let dir: string;
let listener: NotifyListener;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-notify-'));
  listener = await listenNotify(path.join(dir, 'notify'));
});
afterEach(async () => {
  await listener.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('createNotifier', () => {
  it('sends READY=1 with a status, and coalesces fast STATUS= updates', async () => {
    const n = createNotifier({ env: { NOTIFY_SOCKET: path.join(dir, 'notify') }, minIntervalMs: 60_000 });
    expect(n.active).toBe(true);
    await n.ready('mounted');
    await n.status('indexing 1/3');
    await n.status('indexing 2/3');
    await n.status('indexing 3/3');
    await n.flush();
    await listener.waitFor((m) => m.includes('3/3'));
    // systemd-notify names the main PID and waits on a BARRIER=1 after each message
    const p = process.pid;
    expect(listener.received.filter((m) => m !== 'BARRIER=1')).toEqual([`MAINPID=${p}|READY=1|STATUS=mounted`, `MAINPID=${p}|STATUS=indexing 1/3`, `MAINPID=${p}|STATUS=indexing 3/3`]);
  });

  it('as a reload helper: STATUS= only, sent for itself (no READY=1, no MAINPID=)', async () => {
    const n = createNotifier({ env: { NOTIFY_SOCKET: path.join(dir, 'notify') }, helper: true });
    await n.ready('reloaded');
    await listener.waitFor((m) => m.includes('reloaded'));
    expect(listener.received.filter((m) => m !== 'BARRIER=1')).toEqual(['STATUS=reloaded']);
  });

  it('does nothing without NOTIFY_SOCKET', async () => {
    const log = memoryLog();
    const n = createNotifier({ env: {}, log });
    expect(n.active).toBe(false);
    await n.ready();
    await n.status('x');
    expect(log.events).toEqual([]);
  });

  it('logs, and does not throw, when the socket is gone', async () => {
    const log = memoryLog();
    const n = createNotifier({ env: { NOTIFY_SOCKET: path.join(dir, 'missing') }, log });
    await n.ready();
    expect(log.events).toHaveLength(1);
    expect(log.events[0]).toMatchObject({ event: 'warning' });
    expect((log.events[0] as { message: string }).message).toMatch(/^systemd-notify READY=1: /);
  });

  it.each([
    ['a plain line', 'reconciling', 'STATUS=reconciling'],
    ['newlines folded', 'a\nb\r\nc', 'STATUS=a b c'],
  ])('statusLine: %s', (_, text, want) => expect(statusLine(text)).toBe(want));

  it('names the main process so systemd accepts the message from a helper', () => {
    expect(notifyArgs(42, ['READY=1'])).toEqual(['--pid=42', 'READY=1']);
    expect(notifyArgs(undefined, ['STATUS=x'])).toEqual(['STATUS=x']);
  });
});
