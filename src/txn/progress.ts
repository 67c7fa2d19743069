// The journal's progress file, append-only: one record per finished batch (`N`: the first N actions are
// done) and one per action set aside because its premise no longer held (`skip I "REASON"`), each made
// durable before the next batch starts. Read back checked: a complete line that is not a record, or a count
// past the plan, is refused naming the file and line; a torn last line (a cut while appending) counts for nothing.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { progressFile } from './journal.js';

export interface Progress {
  /** How many actions are done (from the first). */
  readonly done: number;
  /** Actions below `done` that were skipped, with why. */
  readonly skipped: ReadonlyMap<number, string>;
}

const SKIP = /^skip (\d+) ("(?:[^"\\]|\\.)*")$/;

/** The progress recorded for a journal of `total` actions (nothing done when there is no file). */
export function readProgress(layout: Layout, total: number): Progress {
  const file = progressFile(layout);
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { done: 0, skipped: new Map() };
    throw ioError('cannot read', file, err);
  }
  const bad = (line: number, what: string) => new StateOverlayError('corrupt', `${file}:${line}: ${what}`, { path: file });
  let done = 0;
  const skipped = new Map<number, string>();
  const complete = text.split('\n').slice(0, -1);
  complete.forEach((line, i) => {
    const count = /^\d+$/.test(line) ? Number(line) : undefined;
    const skip = SKIP.exec(line);
    if (count !== undefined) {
      if (count > total) throw bad(i + 1, `${count} actions done: the journal has ${total}`);
      done = Math.max(done, count);
    } else if (skip) {
      const at = Number(skip[1]);
      if (at >= total) throw bad(i + 1, `skip of action ${at}: the journal has ${total}`);
      skipped.set(at, JSON.parse(skip[2]!) as string);
    } else {
      throw bad(i + 1, `expected an action count or a skip record, got ${JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}...` : line)}`);
    }
  });
  // A skip past the last count belongs to a batch that runs again: it is decided afresh.
  for (const at of skipped.keys()) if (at >= done) skipped.delete(at);
  return { done, skipped };
}

/** JSON of a string with every char past ASCII escaped: the file is read back byte for byte. */
const asciiJson = (s: string) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Appends progress records durably. */
export class ProgressWriter {
  private fd: number;
  constructor(private readonly file: string) {
    try {
      this.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw ioError('open', file, err);
    }
  }
  private append(line: string, sync: boolean): void {
    try {
      fs.writeSync(this.fd, `${line}\n`);
      if (sync) fs.fdatasyncSync(this.fd);
    } catch (err) {
      throw ioError('write', this.file, err);
    }
  }
  /** The first n actions are done (durable on return). */
  done(n: number): void {
    this.append(String(n), true);
  }
  /** Action i was skipped (durable with the next done()). */
  skip(i: number, reason: string): void {
    this.append(`skip ${i} ${asciiJson(reason)}`, false);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}
