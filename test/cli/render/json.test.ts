import { describe, expect, it } from 'vitest';
import { API_VERSION, document, jsonLine, jsonText, pathFields, pathListFields } from '../../../src/cli/render/json.js';
import { fromBytes } from '../../../src/model/entry.js';
import { rel } from '../../model/rel.js';
import { EVERY_BYTE, INVALID_UTF8, NEWLINE } from '../../tree/fixtures.js';

describe('the JSON model', () => {
  it('puts the one apiVersion and the kind before the body', () => {
    const doc = document('MountReport', { name: 'opt', changed: true });
    expect(doc).toEqual({ apiVersion: 'state-overlay/v1', kind: 'MountReport', name: 'opt', changed: true });
    expect(Object.keys(doc)).toEqual(['apiVersion', 'kind', 'name', 'changed']);
    expect(API_VERSION).toBe('state-overlay/v1');
  });

  it('prints a command result indented, a run result on one line', () => {
    const doc = document('RunReport', { name: 'opt' });
    expect(jsonText(doc)).toBe('{\n  "apiVersion": "state-overlay/v1",\n  "kind": "RunReport",\n  "name": "opt"\n}');
    expect(jsonLine(doc)).toBe('{"apiVersion":"state-overlay/v1","kind":"RunReport","name":"opt"}');
  });

  it.each([
    ['UTF-8', Buffer.from('app/é/conf'), 'app/é/conf'],
    ['not UTF-8', INVALID_UTF8, 'b\\xff\\xfe\\x80.c'],
    ['a control byte', NEWLINE, 'new\\x0aline'],
  ])('writes a path (%s) for people and its exact bytes, always both', (_what, bytes, shown) => {
    expect(pathFields('path', fromBytes(bytes))).toEqual({ path: shown, pathBase64: bytes.toString('base64') });
  });

  it('names the fields after the path they hold, and keeps every byte', () => {
    const p = fromBytes(EVERY_BYTE);
    const f = pathFields('to', p);
    expect(Object.keys(f)).toEqual(['to', 'toBase64']);
    expect(Buffer.from(f.toBase64, 'base64')).toEqual(EVERY_BYTE);
    expect(pathListFields('restored', [rel('a'), fromBytes(INVALID_UTF8)])).toEqual({
      restored: ['a', 'b\\xff\\xfe\\x80.c'],
      restoredBase64: ['YQ==', INVALID_UTF8.toString('base64')],
    });
  });
});
