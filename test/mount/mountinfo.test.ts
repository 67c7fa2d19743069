import { describe, expect, it } from 'vitest';
import { mountsUnder, parseMountinfo, propagation, topMountAt, unescapeOctal } from '../../src/mount/mountinfo.js';

const TEXT = [
  '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
  '50 27 0:41 / /opt rw,relatime shared:2 - overlay overlay rw,lowerdir=/run/state-overlay/opt/base,upperdir=/var/lib/state-overlay/opt/upper,workdir=/var/lib/state-overlay/opt/work,uuid=on',
  '51 27 254:0 /opt /run/state-overlay/opt/base ro,relatime - ext4 /dev/vda rw',
  '52 27 0:42 / /opt2 rw master:3 - overlay overlay rw,lowerdir=/a\\054b:/c,upperdir=/with\\040space/u,workdir=/with\\040space/w',
  '53 27 0:43 / /opt2/sub\\134dir rw unbindable - tmpfs tmp\\011fs rw,size=4k',
  '54 27 0:44 / /opt\\040x rw - tmpfs none rw',
  '55 27 0:45 / /opt rw - tmpfs later rw',
].join('\n');

describe('parseMountinfo', () => {
  const entries = parseMountinfo(TEXT + '\n');

  it('parses every field', () => {
    expect(entries).toHaveLength(7);
    const o = entries[1]!;
    expect(o).toMatchObject({ id: 50, parentId: 27, dev: '0:41', root: '/', mountpoint: '/opt', fstype: 'overlay', source: 'overlay' });
    expect(o.mountOptions).toEqual(['rw', 'relatime']);
    expect(o.optional).toEqual(['shared:2']);
    expect(o.superOptions.get('upperdir')).toBe('/var/lib/state-overlay/opt/upper');
    expect(o.superOptions.get('workdir')).toBe('/var/lib/state-overlay/opt/work');
    expect(o.superOptions.get('lowerdir')).toBe('/run/state-overlay/opt/base');
    expect(o.superOptions.get('rw')).toBe('');
  });

  it.each([
    ['lowerdir with an escaped comma', 52, 'lowerdir', '/a,b:/c'],
    ['upperdir with a space', 52, 'upperdir', '/with space/u'],
  ])('decodes octal escapes inside super options: %s', (_, id, key, value) => {
    expect(entries.find((e) => e.id === id)!.superOptions.get(key)).toBe(value);
  });

  it.each([
    ['\\040', ' '],
    ['\\011', '\t'],
    ['\\012', '\n'],
    ['\\134', '\\'],
    ['a\\054b', 'a,b'],
    ['\\303\\251', 'é'],
    ['plain', 'plain'],
  ])('unescapeOctal(%j) = %j', (input, out) => {
    expect(unescapeOctal(input)).toBe(out);
  });

  it('decodes mountpoints and sources', () => {
    expect(entries[4]).toMatchObject({ mountpoint: '/opt2/sub\\dir', source: 'tmp\tfs' });
  });

  it('finds the top mount by exact mountpoint, never by prefix', () => {
    expect(topMountAt(entries, '/opt')!.id).toBe(55);
    expect(topMountAt(entries, '/opt x')!.id).toBe(54);
    expect(topMountAt(entries, '/op')).toBeUndefined();
    expect(topMountAt(entries, '/opt/')).toBeUndefined();
  });

  it('lists mounts strictly below a directory', () => {
    expect(mountsUnder(entries, '/opt2').map((e) => e.id)).toEqual([53]);
    expect(mountsUnder(entries, '/opt').map((e) => e.id)).toEqual([]);
  });

  it.each([
    [50, 'shared'],
    [51, 'private'],
    [52, 'slave'],
    [53, 'unbindable'],
  ] as const)('propagation of mount %i is %s', (id, prop) => {
    expect(propagation(entries.find((e) => e.id === id)!)).toBe(prop);
  });

  it.each([
    ['too few fields', '1 2 3', 'mountinfo:1: not a mountinfo line: "1 2 3"'],
    ['no separator', '1 2 0:1 / /x rw a b c d', 'mountinfo:1: not a mountinfo line: "1 2 0:1 / /x rw a b c d"'],
    ['bad id', 'x 1 0:1 / /x rw - tmpfs none rw', 'mountinfo:1: bad mount id in "x 1 0:1 / /x rw - tmpfs none rw"'],
    ['bad parent id', '1 y 0:1 / /x rw shared:1 - tmpfs none rw', 'mountinfo:1: bad mount id in "1 y 0:1 / /x rw shared:1 - tmpfs none rw"'],
  ])('rejects %s', (_, line, message) => {
    expect(() => parseMountinfo(line)).toThrow(message);
  });
});
