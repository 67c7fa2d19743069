// The /opt base disks the scenarios boot: v1, then v2 (the OS update). Each path below exercises a
// row of DESIGN section 4's decision table once the host has changed it in the upper.
import type { BaseSpec } from '../lib/bases.js';

const exe = (file: string) => ({ file, mode: 0o755 });

const common = {
  'app/etc/stable.conf': 'stable\n', // unchanged: a local edit is kept (rule 2)
  'app/share/data.txt': 'data\n', // unchanged: an identical copy-up is dropped (rule 1)
  'app/share/keptdel.txt': 'kept deleted\n', // unchanged: the host's whiteout is kept (rule 2)
  'app/plugins/a.txt': 'plugin a\n', // unchanged under an opaque dir: it is kept (rule 7)
  'app/plugins/b.txt': 'plugin b\n',
  'app/typechange': 'a file in the base\n', // unchanged: the host's directory over it is kept (rule 2)
} as const;

export const v1: BaseSpec = {
  entries: {
    ...common,
    'app/VERSION': '1',
    'app/bin/tool': exe('#!/bin/sh\necho tool v1\n'), // changed: a local edit is dropped (rule 3)
    'app/etc/app.conf': 'setting=1\n', // config class, changed: kept, v2 as app.conf.rpmnew (rule 3)
    'app/share/doomed.txt': 'doomed v1\n', // changed: the host's whiteout is dropped, v2 shows (rule 4)
    'app/share/fifo-target': 'was a file\n', // changed: the host's fifo over it is dropped (rule 3)
    'app/lib/libold.so': 'old lib\n', // removed in v2: the local copy goes (rule 5)
    'app/cache/x.txt': 'cache v1\n', // changed under an opaque dir: the opaque dir goes (rule 7)
    'app/link': { symlink: 'bin/tool' }, // changed target: the host's symlink goes (rule 3)
    'app/turned/f.txt': 'dir in v1\n', // a file in v2: host content under it goes to backups (rule 9)
    'app/keep/pinned.txt': 'pinned v1\n', // Keep= class: the host's copy is never touched
  },
};

export const v2: BaseSpec = {
  entries: {
    ...common,
    'app/VERSION': '2',
    'app/bin/tool': exe('#!/bin/sh\necho tool v2\n'),
    'app/bin/tool2': exe('#!/bin/sh\necho tool2 v2\n'),
    'app/etc/app.conf': 'setting=2\n',
    'app/share/doomed.txt': 'doomed v2\n',
    'app/share/fifo-target': 'is a file in v2\n',
    'app/cache/x.txt': 'cache v2\n',
    'app/link': { symlink: 'bin/tool2' },
    'app/turned': 'a file in v2\n',
    'app/newpath': 'shipped by v2\n', // was host state: base wins, the host's copy to backups (rule 6)
    'app/keep/pinned.txt': 'pinned v2\n',
  },
};

/** Bases for the power cut: enough shadowed files that the reconcile takes a while under TCG. */
export const BULK = 3000;
export const bigV1: BaseSpec = { entries: { 'big/VERSION': '1' }, bulk: { dir: 'big/files', count: BULK, content: 'base v1' } };
export const bigV2: BaseSpec = { entries: { 'big/VERSION': '2' }, bulk: { dir: 'big/files', count: BULK, content: 'base v2' } };
