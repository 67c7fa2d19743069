// A record in the journal's native protocol (systemd's "Native Journal Protocol"): PRIORITY, a human
// MESSAGE, a MESSAGE_ID for the records an operator looks for, and every field of the event as a
// STATE_OVERLAY_* field, so `journalctl STATE_OVERLAY_RULE=3` finds every rule-3 record. Pure.
import type { LogEvent } from './events.js';
import { messageOf, type Scope } from './message.js';

export type Severity = 'error' | 'warn' | 'info' | 'debug';

/** syslog priorities (journalctl -p): err, warning, info, debug. */
export const PRIORITY: Record<Severity, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * Fixed ids of the records that start and sum up work, and of a failure (`journalctl MESSAGE_ID=…`),
 * as systemd's own units have; docs/units.md lists them. Never change one: queries and alerts name them.
 */
export const MESSAGE_IDS = {
  'reconcile.start': 'd45313cda99d4ac28be3f6292201bc56',
  'reconcile.done': '50aea18a5d4a4769912baac2d39cfc96',
  'run.ready': 'b704453226a84fda93d09ccfc788e1df',
  'restore.done': '8354abd40f924ad5919c0b05a416d524',
  failed: '4cf7461187644663b5b0d6db8253d404',
} as const satisfies Partial<Record<LogEvent['event'], string>>;

export const IDENTIFIER = 'state-overlay';

/** `reconcileDone` → `STATE_OVERLAY_RECONCILE_DONE`: journal field names are upper case, digits and `_`. */
const fieldName = (key: string): string => `STATE_OVERLAY_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;

/** The events whose paths are relative to the mountpoint (the upper's entries). */
const inUpper = (ev: LogEvent): boolean => ev.event.startsWith('reconcile.') || ev.event === 'restore.entry' || ev.event === 'rollback.restore' || ev.event === 'reset.entry';
const UPPER_PATHS = new Set(['path', 'sidecar', 'to']);

/** What a record did to its path (`drop`, `keep`, `sidecar`, …), for the per-path records. */
function actionOf(ev: LogEvent): string | undefined {
  if (!('rule' in ev) || ev.rule === undefined) return undefined;
  if (ev.event === 'restore.entry' || ev.event === 'rollback.restore') return 'restore';
  return ev.event === 'reset.entry' ? 'reset' : ev.event.split('.')[1];
}

/** The fields of a record, in order; a list gives one field per element (the journal allows repeats). */
export function journalFields(ev: LogEvent, severity: Severity, scope?: Scope): [string, string][] {
  const fields: [string, string][] = [
    ['PRIORITY', String(PRIORITY[severity])],
    ['SYSLOG_IDENTIFIER', IDENTIFIER],
    ['MESSAGE', messageOf(ev, scope)],
  ];
  const id = (MESSAGE_IDS as Record<string, string>)[ev.event];
  if (id !== undefined) fields.push(['MESSAGE_ID', id]);
  const action = actionOf(ev);
  if (action !== undefined) fields.push(['STATE_OVERLAY_ACTION', action]);
  if (!('name' in ev) && scope !== undefined) fields.push(['STATE_OVERLAY_NAME', scope.name]);
  const abs = (p: string) => (scope === undefined ? p : `${scope.target.replace(/\/+$/, '')}/${p}`);
  const add = (key: string, value: unknown, top: boolean): void => {
    if (value === undefined || value === null) return;
    // A nested record (mount.done's `flattened`) gives a field per member: FLATTENED_OVERLAY, FLATTENED_LOWERS.
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) add(`${key}_${k}`, v, false);
      return;
    }
    for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const text = String(v);
      fields.push([fieldName(key), top && inUpper(ev) && UPPER_PATHS.has(key) ? abs(text) : text]);
    }
  };
  for (const [key, value] of Object.entries(ev)) add(key, value, true);
  return fields;
}

/**
 * The datagram: `KEY=value\n`, or, for a value holding a newline, `KEY\n`, its length as a 64-bit
 * little-endian integer, the bytes and `\n` (the protocol's binary-safe form).
 */
export function encodeEntry(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of fields) {
    const bytes = Buffer.from(value, 'utf8');
    if (!bytes.includes(0x0a)) {
      parts.push(Buffer.from(`${key}=`), bytes, Buffer.from('\n'));
      continue;
    }
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(bytes.length));
    parts.push(Buffer.from(`${key}\n`), len, bytes, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}
