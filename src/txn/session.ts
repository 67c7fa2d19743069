// The session of one command on one overlay: its lock, taken once, and its state.json and journal, read
// once under that lock and kept current as the command writes them. Operations receive the session and
// pass it down; nothing below re-reads what the session holds or takes the lock again.
import fs from 'node:fs';
import type { Log } from '../log/logger.js';
import { checkOverlayDirs } from '../mount/preflight.js';
import type { Overlay } from '../overlay/overlay.js';
import type { Layout } from '../paths/layout.js';
import { acquireLock, type Lock } from '../state/lock.js';
import { ensureStateDir } from '../state/state-dir.js';
import { emptyState, readState, stateManifestFile, writeState, type State } from '../state/state-file.js';
import { readJournal, removeJournal, removeOrphanProgress, writeJournal, type Journal } from './journal.js';
import { assertSafePaths } from './safe-paths.js';

export interface SessionOptions {
  /** How long to wait for the overlay's lock (default 5000 ms). */
  readonly lockWaitMs?: number;
  /** Read-only use (dry runs): with no state dir yet there is nothing to lock, and none is created. */
  readonly readOnly?: boolean;
  /** For offline work: the overlay's paths are checked (assertSafePaths) before anything is created. */
  readonly offline?: boolean;
}

export class OverlaySession {
  #state: State | null;
  /** The journal, once read (undefined: not read yet). */
  #journal: Journal | null | undefined;

  private constructor(
    readonly overlay: Overlay,
    readonly log: Log,
    private readonly lock: Lock | null,
  ) {
    this.#state = readState(overlay.layout);
  }

  /** Checks the overlay's directories exist, takes its lock (creating its state dir), then reads state.json and the journal. */
  static async open(ov: Overlay, log: Log, opts: SessionOptions = {}): Promise<OverlaySession> {
    // Before the state dir is made: an overlay without its directories gets none.
    checkOverlayDirs(ov);
    if (opts.offline) assertSafePaths(ov);
    if (opts.readOnly && !fs.existsSync(ov.layout.stateDir)) return new OverlaySession(ov, log, null);
    ensureStateDir(ov.layout);
    const lock = await acquireLock(ov.layout.lockFile, { what: `overlay ${ov.name}`, waitMs: opts.lockWaitMs ?? 5000 });
    try {
      return new OverlaySession(ov, log, lock);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  get layout(): Layout {
    return this.overlay.layout;
  }

  /** state.json as recorded, or null before the first record. */
  get state(): State | null {
    return this.#state;
  }

  /** The recorded generation's manifest file (it may be missing), or null. */
  get manifestFile(): string | null {
    return stateManifestFile(this.layout, this.#state);
  }

  /** Replaces state.json (atomically, durably) with a change of the recorded state. */
  updateState(change: (s: State) => State): void {
    const next = change(this.#state ?? emptyState());
    writeState(this.layout, next);
    this.#state = next;
  }

  /** The journal of a transaction not finished yet (interrupted, or under way), or null; read once. */
  get journal(): Journal | null {
    if (this.#journal === undefined) {
      this.#journal = readJournal(this.layout);
      if (this.#journal === null && this.lock !== null) removeOrphanProgress(this.layout);
    }
    return this.#journal;
  }

  /** Whether a journal file exists at all, readable or not (mount refuses either way). */
  get hasJournal(): boolean {
    return this.#journal !== undefined ? this.#journal !== null : fs.existsSync(this.layout.journal);
  }

  /** Makes a journal durable: from here on a cut resumes it. */
  beginJournal(journal: Journal): void {
    writeJournal(this.layout, journal);
    this.#journal = journal;
  }

  /** Removes the journal once its result is recorded (between: a test-only fault point before its progress goes). */
  endJournal(between?: () => void): void {
    removeJournal(this.layout, between);
    this.#journal = null;
  }

  async close(): Promise<void> {
    await this.lock?.release();
  }
}

/** Runs fn in a session of the overlay and closes it whatever happens. */
export async function withSession<T>(ov: Overlay, log: Log, opts: SessionOptions, fn: (s: OverlaySession) => Promise<T>): Promise<T> {
  const s = await OverlaySession.open(ov, log, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
