// The human line of each record (the journal's MESSAGE): one formatter per kind of event.
import type { LogEvent } from './events.js';

/** Where the records' relative paths live: the overlay's mountpoint, once a command resolved it. */
export interface Scope {
  readonly name: string;
  readonly target: string;
}

/** `rule 3`, or `reset` for a step no rule decided. */
const ruleWord = (rule: number | null): string => (rule === null ? 'reset' : `rule ${rule}`);

const under = (scope: Scope | undefined, p: string): string => (scope === undefined ? p : `${scope.target.replace(/\/+$/, '')}/${p}`);

/** What an adopted ostree upper is reconciled against first. */
function migratedBase(ev: Extract<LogEvent, { event: 'migrate.ostree' }>): string {
  if (ev.deployment === null) return 'made against no deployment ostree recorded: the first reconcile applies UnknownBase=';
  if (ev.base === null) return `made against deployment ${ev.deployment}, not on disk any more: the first reconcile applies UnknownBase=`;
  return `made against deployment ${ev.deployment}: its ${ev.base} recorded as the base`;
}

export function messageOf(ev: LogEvent, scope?: Scope): string {
  const at = (p: string) => under(scope, p);
  switch (ev.event) {
    case 'config.loaded': return `${ev.name}: configuration from ${ev.files.join(', ')}`;
    case 'reconcile.start': return `${ev.name}: reconcile ${ev.from ?? 'unknown base'} → ${ev.to} (Reconcile=${ev.mode})`;
    case 'reconcile.drop': return `rule ${ev.rule} drop ${at(ev.path)}: ${ev.reason}`;
    case 'reconcile.keep': return `rule ${ev.rule} keep ${at(ev.path)}: ${ev.reason}${ev.sidecar === undefined ? '' : `, new base content in ${at(ev.sidecar)}`}`;
    case 'reconcile.sidecar': return `rule ${ev.rule} sidecar ${at(ev.sidecar)}: the new base content of ${at(ev.path)}`;
    case 'reconcile.merge': return `rule ${ev.rule} merge ${at(ev.path)}: ${ev.reason}; the host's version in ${ev.backup}`;
    case 'run.pristine': return `${ev.name}: kept the base content of ${ev.stored} files for later merges (${ev.bytes} bytes)`;
    case 'reconcile.conflict': return `${ruleWord(ev.rule)} conflict at ${at(ev.path)}: ${ev.reason}`;
    case 'reconcile.skip': return `${ruleWord(ev.rule)} ${ev.kind} of ${at(ev.path)} skipped: ${ev.reason}`;
    case 'reconcile.done': return `${ev.name}: reconciled: ${ev.actions} actions, ${ev.dropped} dropped, ${ev.kept} kept (${ev.ms} ms)`;
    case 'reconcile.resume': return `${ev.name}: finishing an interrupted reconcile (${ev.done} of ${ev.total} done)`;
    case 'reconcile.rename': return `rule ${ev.rule} rename ${at(ev.path)} → ${at(ev.to)}: ${ev.reason}`;
    case 'reconcile.attrs': return `rule ${ev.rule} attrs ${at(ev.path)} mode ${ev.mode} owner ${ev.uid}:${ev.gid}: ${ev.reason}`;
    case 'reconcile.rmdir': return `rule ${ev.rule} rmdir ${at(ev.path)}: ${ev.reason}`;
    case 'reset.entry': return `reset ${at(ev.path)} to ${ev.backup}`;
    case 'reset.done': return `${ev.name}: reset moved ${ev.moved}${ev.set === null ? '' : ` into ${ev.set}`}`;
    case 'vacuum.done': return `${ev.name}: vacuum dropped ${ev.dropped}${ev.set === null ? '' : ` into ${ev.set}`}`;
    case 'index.start': return `indexing ${ev.root}`;
    case 'index.done': return `indexed ${ev.entries} entries, ${ev.hashedBytes} bytes hashed, ${ev.reusedDigests} digests reused (${ev.ms} ms)`;
    case 'mount.done': return `${ev.name}: mounted on ${ev.target}`;
    case 'mount.already': return `${ev.name}: already mounted on ${ev.target}`;
    case 'unmount.done': return `${ev.name}: unmounted from ${ev.target}${ev.lazy ? ' (lazily)' : ''}`;
    case 'migrate.ostree': return `${ev.name}: adopted ostree's upper ${ev.from} as ${ev.to}, ${migratedBase(ev)}`;
    case 'run.ready': return `${ev.name}: ready, generation ${ev.generation}${ev.reconciled ? ', after a reconcile' : ''}${ev.changed ? '' : ', was mounted already'}`;
    case 'run.manifest': return `${ev.name}: manifest of ${ev.generation} recorded: ${ev.entries} entries (${ev.ms} ms)`;
    case 'watch.reload': return `${ev.name}: base changed ${ev.from ?? 'unknown'} → ${ev.to}: reloading`;
    case 'generation': return `${ev.name}: generation ${ev.current}${ev.recorded === ev.current ? ' (unchanged)' : `, recorded ${ev.recorded ?? 'none'}`}`;
    case 'watch.change': return `${ev.name}: base changed at ${ev.path}`;
    case 'watch.deferred': return `${ev.name}: reload deferred: ${ev.reason}`;
    case 'backups.pruned': return `${ev.name}: backup set ${ev.set} pruned`;
    case 'restore.entry': return `${ev.rule === null ? '' : `rule ${ev.rule} `}restore ${at(ev.path)} from ${ev.backup}`;
    case 'restore.done': return `${ev.name}: ${ev.restored} restored from ${ev.set}`;
    case 'rollback.restore': return `rule ${ev.rule} restore ${at(ev.path)} from ${ev.backup}: ${ev.reason}`;
    case 'rollback.found': return `${ev.name}: rollback ${ev.from} → ${ev.to}: undoing the reconcile of backup set ${ev.set}`;
    case 'warning': return ev.message;
    case 'failed': return ev.message;
  }
}
