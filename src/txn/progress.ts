// The journal's progress file, append-only: one record per finished batch (`N`: the first N actions are
// done), each made durable before the next batch starts. Read back checked: a complete line that is not a
// record, or a count past the plan, is refused naming the file and line; a torn last line (a cut while
// appending) counts for nothing.
import fs from 'node:fs';
import { StateOverlayError, ioError } from '../errors.js';
import type { Layout } from '../paths/layout.js';
import { progressFile } from './journal.js';

/** How many actions of a journal of `total` are recorded as done (none when there is no file). */
export function readProgress(layout: Layout, total: number): number {
  const file = progressFile(layout);
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw ioError('cannot read', file, err);
  }
  const bad = (line: number, what: string) => new StateOverlayError('corrupt', `${file}:${line}: ${what}`, { path: file });
  let done = 0;
  const complete = text.split('\n').slice(0, -1);
  complete.forEach((line, i) => {
    if (!/^\d+$/.test(line)) throw bad(i + 1, `expected an action count, got ${JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}...` : line)}`);
    const count = Number(line);
    if (count > total) throw bad(i + 1, `${count} actions done: the journal has ${total}`);
    done = Math.max(done, count);
  });
  return done;
}

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
  /** The first n actions are done (durable on return). */
  done(n: number): void {
    try {
      fs.writeSync(this.fd, `${n}\n`);
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      throw ioError('write', this.file, err);
    }
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}
