import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/config/ini.js';
import { normalizeConfig } from '../../src/config/normalize.js';
import { defaultConfig, type OverlayConfig } from '../../src/config/schema.js';

const F = '/etc/state-overlay/opt.conf';
const load = (text: string) => normalizeConfig('opt', '/opt', parseIni(text, F), [F]);

describe('normalizeConfig', () => {
  it('gives the defaults with no entries, frozen', () => {
    const c = normalizeConfig('opt', '/opt', [], []);
    expect(c).toEqual(defaultConfig('opt', '/opt'));
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.paths.keep)).toBe(true);
  });

  it('reads every key', () => {
    const c = load(`[Overlay]
Path=/opt
Base=/usr/lib/opt
Mode=ephemeral
Reconcile=all
UnknownBase=keep
Generation=command:/usr/bin/gen
[Paths]
Config=/opt/*/etc/**
ConfigPolicy=replace
ConfigReplace=/opt/app/etc/hard.conf
ConfigFrom=dpkg
SuffixStyle=dpkg
Keep=/opt/crowdstrike/**
[Backups]
Keep=9
`);
    expect(c).toMatchObject({
      path: '/opt',
      base: '/usr/lib/opt',
      mode: 'ephemeral',
      reconcile: 'all',
      unknownBase: 'keep',
      generation: { kind: 'command', command: '/usr/bin/gen' },
      paths: {
        config: ['/opt/*/etc/**'],
        configPolicy: 'replace',
        configReplace: ['/opt/app/etc/hard.conf'],
        configFrom: 'dpkg',
        suffixStyle: 'dpkg',
        keep: ['/opt/crowdstrike/**'],
      },
      backups: { keep: 9 },
      sources: [F],
    });
  });

  it('appends list keys and resets them on an empty assignment', () => {
    const c = load('[Paths]\nKeep=/opt/a\nKeep=/opt/b\nKeep=\nKeep=/opt/c\n');
    expect(c.paths.keep).toEqual(['/opt/c']);
  });

  it.each([
    ['[Overlay]\nReconcile=sometimes', `${F}:2: Reconcile=sometimes: expected changed, all or none`],
    ['[Overlay]\nMode=volatile', `${F}:2: Mode=volatile: expected persistent or ephemeral`],
    ['[Overlay]\nUnknownBase=drop', `${F}:2: UnknownBase=drop: expected prune or keep`],
    ['[Overlay]\nGeneration=git', `${F}:2: Generation=git: expected auto, tree, ostree or manifest`],
    ['[Overlay]\nGeneration=command:gen', `${F}:2: Generation=command:gen: expected command:/absolute/path/to/program`],
    ['[Overlay]\nBase=usr/lib/opt', `${F}:2: Base=usr/lib/opt: expected an absolute path`],
    ['[Overlay]\nBase=/usr/../opt', `${F}:2: Base=/usr/../opt: expected a path without '..'`],
    ['[Overlay]\nBase=/run/state-overlay/opt/base', `${F}:2: Base=/run/state-overlay/opt/base: expected the image's directory, not one under /run/state-overlay (the tool's own state)`],
    ['[Overlay]\nBase=//var/lib/state-overlay/', `${F}:2: Base=//var/lib/state-overlay/: expected the image's directory, not one under /var/lib/state-overlay (the tool's own state)`],
    ['[Overlay]\nPath=/proc/x', `${F}:2: Path=/proc/x: expected a mountpoint that can be overlaid (Path '/proc/x' lies in /proc, which cannot be overlaid)`],
    ['[Overlay]\nPath=/', `${F}:2: Path=/: expected a mountpoint that can be overlaid (Path '/' cannot be overlaid: the root filesystem is not a valid target)`],
    ['[Overlay]\nEphemeralSize=101%', `${F}:2: EphemeralSize=101%: expected a size as tmpfs takes it: a percentage of RAM from 1% to 100%, or bytes with an optional K, M or G suffix`],
    ['[Overlay]\nEphemeralSize=1T', `${F}:2: EphemeralSize=1T: expected a size as tmpfs takes it: a percentage of RAM from 1% to 100%, or bytes with an optional K, M or G suffix`],
    ['[Overlay]\nEphemeralSize=0', `${F}:2: EphemeralSize=0: expected a size as tmpfs takes it: a percentage of RAM from 1% to 100%, or bytes with an optional K, M or G suffix`],
    ['[Overlay]\nColour=blue', `${F}:2: Colour=blue: unknown key in [Overlay], expected Path, Base, Mode, EphemeralSize, Reconcile, UnknownBase, Rollback or Generation`],
    ['[Mount]\nPath=/opt', `${F}:2: [Mount]: unknown section, expected [Overlay], [Paths] or [Backups]`],
    ['[Paths]\nConfig=etc/**', `${F}:2: Config=etc/**: expected an absolute glob such as /opt/*/etc/**`],
    ['[Paths]\nConfigPolicy=always', `${F}:2: ConfigPolicy=always: expected noreplace or replace`],
    ['[Paths]\nConfigFrom=apt', `${F}:2: ConfigFrom=apt: expected none, dpkg, rpm or auto`],
    ['[Paths]\nSuffixStyle=deb', `${F}:2: SuffixStyle=deb: expected rpm or dpkg`],
    ['[Backups]\nKeep=0', `${F}:2: Keep=0: expected a whole number of backup sets from 1 to 999999`],
    ['[Backups]\nKeep=five', `${F}:2: Keep=five: expected a whole number of backup sets from 1 to 999999`],
    ['[Backups]\nKeep=1000000', `${F}:2: Keep=1000000: expected a whole number of backup sets from 1 to 999999`],
    ['[Backups]\nKeep=99999999999999999999', `${F}:2: Keep=99999999999999999999: expected a whole number of backup sets from 1 to 999999`],
    ['[Paths]\nConfig=/srv6/[', `${F}:2: Config=/srv6/[: expected a glob such as /opt/*/etc/** (Missing closing: "]" - use "\\\\]" to match literal characters)`],
    ['[Paths]\n\nKeep=/opt/{a,b', `${F}:3: Keep=/opt/{a,b: expected a glob such as /opt/*/etc/** (Missing closing: "}" - use "\\\\}" to match literal characters)`],
    ['[Paths]\nConfigReplace=/opt/(x', `${F}:2: ConfigReplace=/opt/(x: expected a glob such as /opt/*/etc/** (Missing closing: ")" - use "\\\\)" to match literal characters)`],
  ])('refuses %j', (text, message) => {
    expect(() => load(text)).toThrow(message);
    try {
      load(text);
    } catch (err) {
      expect(err).toMatchObject({ code: 'config', path: F });
    }
  });
  it.each([
    ['[Backups]\nKeep=999999', (c: OverlayConfig) => c.backups.keep, 999999],
    ['[Paths]\nConfig=/opt/[!x]*/{a,b}/**', (c: OverlayConfig) => c.paths.config, ['/opt/[!x]*/{a,b}/**']],
    ['[Paths]\nKeep=/opt/\\[literal', (c: OverlayConfig) => c.paths.keep, ['/opt/\\[literal']],
  ])('accepts %j', (text, get, want) => {
    expect(get(load(text))).toEqual(want);
  });

});
