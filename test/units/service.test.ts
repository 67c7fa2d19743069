// The template unit: DESIGN section 6 ordering, and systemd-analyze verify accepts it as installed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIni } from '../../src/config/ini.js';
import { tryRun } from '../../src/exec.js';

const repo = path.resolve(import.meta.dirname, '../..');
const unitFile = path.join(repo, 'units/state-overlay@.service');
const text = fs.readFileSync(unitFile, 'utf8');
const entries = parseIni(text, unitFile);
const values = (section: string, key: string) => entries.filter((e) => e.section === section && e.key === key).map((e) => e.value);

describe('units/state-overlay@.service', () => {
  it.each([
    ['Unit', 'DefaultDependencies', ['no']],
    ['Unit', 'RequiresMountsFor', ['/var/lib/state-overlay', '%f']],
    ['Unit', 'Before', ['local-fs.target', 'umount.target']],
    ['Unit', 'Conflicts', ['umount.target']],
    ['Service', 'Type', ['notify']],
    ['Service', 'RemainAfterExit', ['yes']],
    ['Service', 'NotifyAccess', ['all']],
    ['Service', 'ExecStart', ['/usr/bin/state-overlay run %i']],
    ['Service', 'ExecReload', ['/usr/bin/state-overlay run %i --reload']],
    ['Service', 'ExecStop', ['/usr/bin/state-overlay unmount %i']],
    ['Install', 'WantedBy', ['local-fs.target']],
  ])('[%s] %s=%j', (section, key, want) => {
    expect(values(section, key)).toEqual(want);
  });

  it('comments every setting that is not self-explanatory', () => {
    const plain = new Set(['Description', 'Documentation', 'ExecStart', 'ExecStop', 'WantedBy', 'StandardOutput', 'StandardError', 'SyslogIdentifier', 'Type']);
    const lines = text.split('\n');
    const uncommented = entries.filter((e) => !plain.has(e.key) && !lines[e.line - 2]!.startsWith('#') && !lines[e.line - 3]?.startsWith('#'));
    expect(uncommented.map((e) => `${e.line}: ${e.key}`)).toEqual([]);
  });

  describe('systemd-analyze verify', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-unit-'));
      // As installed, but naming this checkout's launcher (verify checks ExecStart= is executable).
      fs.writeFileSync(path.join(dir, 'state-overlay@.service'), text.replaceAll('/usr/bin/state-overlay', path.join(repo, 'bin/state-overlay.js')));
      for (const i of ['opt', 'usr-local', 'opt-my\\x2dapp']) fs.symlinkSync('state-overlay@.service', path.join(dir, `state-overlay@${i}.service`));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it.each(['opt', 'usr-local', 'opt-my\\x2dapp'])('accepts state-overlay@%s.service with no warnings', async (instance) => {
      // --man=no: the man page comes with `npm run install-system`, not with a checkout.
      const r = await tryRun('systemd-analyze', ['verify', '--man=no', path.join(dir, `state-overlay@${instance}.service`)], {
        env: { SYSTEMD_UNIT_PATH: `${dir}:` },
      });
      expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    });

    it('rejects a unit whose ExecStart is missing (the check is live)', async () => {
      const bad = path.join(dir, 'bad@.service');
      fs.writeFileSync(bad, text.replaceAll('/usr/bin/state-overlay', '/nonexistent/state-overlay'));
      fs.symlinkSync('bad@.service', path.join(dir, 'bad@opt.service'));
      const r = await tryRun('systemd-analyze', ['verify', '--man=no', path.join(dir, 'bad@opt.service')], { env: { SYSTEMD_UNIT_PATH: `${dir}:` } });
      expect(r.exitCode).toBe(1);
      // once per Exec*= line
      expect([...new Set(r.stderr.split('\n'))]).toEqual(['bad@opt.service: Command /nonexistent/state-overlay is not executable: No such file or directory']);
    });
  });

  describe('systemd-analyze security', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'so-sec-'));
      // An instance is needed: the template alone is not analyzed.
      fs.writeFileSync(path.join(dir, 'state-overlay@opt.service'), text);
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('rates the unit below 5.0 (it was 9.7 UNSAFE with no hardening)', async () => {
      const r = await tryRun('systemd-analyze', ['security', '--offline=true', '--no-pager', path.join(dir, 'state-overlay@opt.service')], { env: { SYSTEMD_COLORS: '0' } });
      const m = /Overall exposure level for state-overlay@opt\.service: (\d+\.\d)/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(5.0);
    });
  });

  it('sets nothing that gives the service a mount namespace of its own (its mounts must be the host\'s)', () => {
    const namespaced = ['PrivateMounts', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'ProtectProc', 'ProcSubset', 'ProtectHostname', 'ProtectClock', 'ReadOnlyPaths', 'ReadWritePaths', 'InaccessiblePaths', 'TemporaryFileSystem', 'BindPaths', 'BindReadOnlyPaths', 'RootDirectory', 'RootImage', 'PrivateUsers', 'MountFlags'];
    expect(entries.filter((e) => namespaced.includes(e.key)).map((e) => e.key)).toEqual([]);
  });

  it('bounds the capabilities to mounting and copying entries with their attributes', () => {
    expect(values('Service', 'CapabilityBoundingSet').flatMap((v) => v.split(' ')).sort()).toEqual(
      ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_MKNOD', 'CAP_SETFCAP', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'],
    );
    expect(values('Service', 'MemoryDenyWriteExecute')).toEqual([]);
  });
});
