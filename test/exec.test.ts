import { describe, expect, it } from 'vitest';
import { capStderr, run, STDERR_CAP, tryRun } from '../src/exec.js';

describe('tryRun', () => {
  it('returns exit status, stdout and stderr (final newline stripped) whatever the status', async () => {
    expect(await tryRun('sh', ['-c', 'printf "out\\n\\n"; echo err >&2; exit 3'])).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err' });
  });

  it('passes argv without a shell', async () => {
    expect((await tryRun('printf', ['%s|', 'a b', '$HOME', '*'])).stdout).toBe('a b|$HOME|*|');
  });

  it('writes input to stdin, and gives none otherwise', async () => {
    expect((await tryRun('cat', [], { input: 'one\ntwo\n' })).stdout).toBe('one\ntwo');
    expect((await tryRun('cat', [])).stdout).toBe('');
  });

  it('adds env to the inherited environment', async () => {
    process.env.STATE_OVERLAY_TEST_INHERITED = 'kept';
    try {
      expect((await tryRun('sh', ['-c', 'echo "$STATE_OVERLAY_TEST_INHERITED $EXTRA"'], { env: { EXTRA: 'added' } })).stdout).toBe('kept added');
    } finally {
      delete process.env.STATE_OVERLAY_TEST_INHERITED;
    }
  });

  it('fails naming the command when it cannot start, is killed, or times out', async () => {
    await expect(tryRun('/nonexistent/prog', ['x'])).rejects.toMatchObject({ code: 'exec', message: '/nonexistent/prog x: spawn /nonexistent/prog ENOENT' });
    await expect(tryRun('sh', ['-c', 'kill -9 $$'])).rejects.toMatchObject({ code: 'exec', message: 'sh -c kill -9 $$: killed by SIGKILL' });
    await expect(tryRun('sleep', ['5'], { timeoutMs: 100 })).rejects.toMatchObject({ code: 'exec', message: 'sleep 5: timed out after 100 ms' });
  });
});

describe('run', () => {
  it('turns a non-zero exit into an exec error with the command line and capped stderr', async () => {
    await expect(run('sh', ['-c', 'echo bad >&2; exit 2'])).rejects.toMatchObject({ code: 'exec', message: 'sh -c echo bad >&2; exit 2: exit status 2: bad' });
    const long = 'x'.repeat(STDERR_CAP + 10);
    expect(capStderr(long)).toBe(`…${'x'.repeat(STDERR_CAP)}`);
  });
});
