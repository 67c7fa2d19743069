// A manifest cut short after its lookup view read its size, table and trailer (truncated by another
// writer while it is read): a lookup made before `checked` settles is refused as damage (or answered),
// never a TypeError, and `checked` rejects, naming the file.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { StateOverlayError } from '../../src/errors.js';
import { encodeManifest } from '../../src/manifest/encode.js';
import type { ManifestEntry } from '../../src/manifest/format.js';
import { openManifestView } from '../../src/manifest/lookup.js';
import { comparePaths } from '../../src/model/order.js';
import { rel, removeTree, scratch } from '../tree/fixtures.js';

/** The file to cut, and where, at the view's first read of its bytes from the start (the head's is shorter). */
const cut: { file?: string; at: number } = { at: 0 };

vi.mock('../../src/manifest/store.js', async (importOriginal) => {
  const store = await importOriginal<typeof import('../../src/manifest/store.js')>();
  return {
    ...store,
    openManifest(file: string) {
      const f = store.openManifest(file);
      return {
        size: f.size,
        fd: f.fd,
        read(buf: Buffer, at: number, len: number, position: number) {
          if (cut.file === file && position === 0 && len > 64) {
            fs.truncateSync(file, cut.at);
            cut.file = undefined;
          }
          return f.read(buf, at, len, position);
        },
        close: () => f.close(),
      };
    },
  };
});

const dir = scratch('so-lookup-cut-');
afterAll(async () => removeTree(dir));

describe('a manifest cut short while its view opens', () => {
  it('keeps the range index whole; checked names the file', async () => {
    const entries: ManifestEntry[] = Array.from({ length: 400 }, (_, i) => ({ path: rel(`d/f${String(i).padStart(4, '0')}`), type: 'file', mode: 0o644, uid: 0, gid: 0, size: i, digest: 'ab'.repeat(32) }));
    entries.sort((a, b) => comparePaths(a.path, b.path));
    const file = path.join(dir, 'cut.manifest');
    fs.writeFileSync(file, encodeManifest(entries));
    Object.assign(cut, { file, at: 2000 });
    const view = openManifestView(file);
    try {
      expect(cut.file, 'the file was not cut').toBeUndefined();
      for (const look of [() => view.get(rel('d/f0399')), () => [...view.under(rel('d'))]]) {
        try {
          look();
        } catch (err) {
          expect(err).toBeInstanceOf(StateOverlayError);
        }
      }
      await expect(view.checked).rejects.toThrow(file);
    } finally {
      view.close();
    }
  });
});
