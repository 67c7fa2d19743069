// Builds the manifest of a base tree: a streamed walk in C that makes the records (native indexWalk),
// content hashed on every core, digests reused from a previous manifest for inodes that did not change,
// written to a temp file then renamed.
import fs from 'node:fs';
import path from 'node:path';
import { newSha256 } from '../hash.js';
import { StateOverlayError, ioError } from '../errors.js';
import { displayPath, type RelPath } from '../model/entry.js';
import { fsyncDir, removeStaleTemps } from '../state/atomic.js';
import { closeQuietly } from '../tree/fsat.js';
import { hashStream, hashStreamDigest, hashStreamFeed, indexEnd, indexNext, indexWalk, type IndexChunk, type IndexHandle, type PreviousRecords } from '../native/syscalls.js';
import type { PackageClasses } from '../model/package-class.js';
import { ManifestEncoder } from './encode.js';
import { checkDigest, decodeTable } from './format.js';
import { ANSWER, FIELDS, HashPool, NOT_A_FILE, type HashBatch } from './pool.js';
import { checkedRange } from './lookup.js';
import { MANIFEST_TEMP, manifestTemp, openManifest, readAt, readLayout, type ManifestFile } from './store.js';

/** observe/submounts.ts's BaseSkip: the test, and the directories it can hold for entries of (all when not given). */
type Skip = ((p: RelPath) => boolean) & { readonly watch?: readonly RelPath[] };

export interface BuildOptions {
  /** A manifest of an earlier state of the same base: digests of unchanged inodes are reused. */
  previous?: string;
  /** Entries done so far, and the expected total when a previous manifest tells it. */
  onProgress?: (done: number, total?: number) => void;
  /** Entries left out with all below them: the mountpoints below the base (observe/submounts.ts); asked only in its watch directories where it lists them. */
  skip?: Skip;
  /** Hash batches run at once on libuv's thread pool (default: its size). */
  threads?: number;
  /** The package classes of the base, read from the image's databases (observe/package-db.ts). */
  classes?: PackageClasses;
}

export interface BuildResult {
  entries: number;
  /** Bytes of file content read and hashed. */
  hashedBytes: number;
  reusedDigests: number;
  /** Size of the manifest file. */
  bytes: number;
}

/** Files a chunk of the walk opens at most, and chunks in flight between the walk and the writer: bounds open fds (and memory). */
const CHUNK_FILES = 128;
const CHUNKS_IN_FLIGHT = 4;
/** Files per batch of the hash pool. */
const BATCH = 32;

// Where a record's fields are (format.ts): its type, its fields from mode to ctime, its digest, and its
// path after a digest.
const AT_TYPE = 4;
const AT_MODE = 5;
const AT_DIGEST = 50;
const AT_PATH = AT_DIGEST + 32;
const FILE = 1;

/** A chunk of records on its way out: the files it waits on, by record offset, and their hash batches. */
interface Pending {
  readonly chunk: IndexChunk;
  readonly files: number[];
  readonly batches: Promise<HashBatch>[];
}

/**
 * The previous manifest's entry records (a v1 manifest's are not used: it has no digest). Its digest is
 * checked beside the walk, on libuv's thread pool: `checked` settles once it is, and must before the
 * new manifest is kept.
 */
function previousRecords(file: string | undefined): { records?: PreviousRecords; total?: number; file?: ManifestFile; checked?: Promise<void> } {
  if (file === undefined || !fs.existsSync(file)) return {};
  const f = openManifest(file);
  try {
    const layout = readLayout(f, file);
    if (layout.version === 1 || layout.count === 0) {
      f.close();
      return { total: layout.count };
    }
    const table = decodeTable(readAt(f, layout.recordsEnd, layout.count * 4), layout, file);
    const checked = checkedRange(f, layout.digestAt!, file).then(
      (digest) => checkDigest(layout, digest.toString('hex'), file),
      (err: unknown) => {
        throw ioError('read manifest', file, err);
      },
    );
    // Awaited once the walk is done: a failure before that is not an unhandled rejection meanwhile.
    checked.catch(() => undefined);
    return { records: { fd: f.fd, from: table[0]!, to: layout.recordsEnd }, total: layout.count, file: f, checked };
  } catch (err) {
    f.close();
    throw err;
  }
}

/** The error of a walk (native indexWalk's, with relPath) in the words of the index. */
function walkError(baseDir: string, err: unknown): unknown {
  const e = err as NodeJS.ErrnoException & { relPath?: string };
  if (e.relPath === undefined) return err;
  if (e.relPath === '') return ioError('read directory', baseDir, err);
  const where = `${baseDir}/${displayPath(e.relPath as RelPath)}`;
  if (e.syscall === 'openat' || e.syscall === 'readlinkat') return ioError(e.syscall === 'openat' ? 'open' : 'read link', where, err);
  return new StateOverlayError('io', `index ${baseDir}: cannot read ${where}`, { path: where, cause: err });
}

export async function buildManifest(baseDir: string, outFile: string, opts: BuildOptions = {}): Promise<BuildResult> {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = manifestTemp(outFile);
  let out: number;
  try {
    // Root's only: a manifest lists names inside private directories and digests of private files.
    out = fs.openSync(tmp, 'w', 0o600);
  } catch (err) {
    throw ioError('create', tmp, err);
  }
  const result: BuildResult = { entries: 0, hashedBytes: 0, reusedDigests: 0, bytes: 0 };
  // The manifest's own digest is made on the thread pool, beside the walk.
  const digest = hashStream();
  const enc = new ManifestEncoder({ update: (b) => hashStreamFeed(digest, b) });
  let written = 0;
  const writeOut = (b: Buffer) => {
    for (let o = 0; o < b.length; ) o += fs.writeSync(out, b, o, b.length - o, written + o);
    written += b.length;
  };
  const skip = opts.skip ?? NO_SKIP;
  let prev: ReturnType<typeof previousRecords> = {};
  let pool: HashPool | undefined;
  let walk: IndexHandle | undefined;
  const inFlight: Pending[] = [];
  // Sends a chunk's files to the hash pool and fills in the digests of its symlinks and devices.
  const start = (chunk: IndexChunk): Pending => {
    const { records, holes, extra } = chunk;
    const files: number[] = [];
    const fds: number[] = [];
    for (let h = 0; h < holes.length; h += 12) {
      const at = holes.readUInt32LE(h);
      if (records[at + AT_TYPE] === FILE) {
        files.push(at);
        fds.push(records.readInt32LE(at + AT_DIGEST));
      } else {
        const from = holes.readUInt32LE(h + 4);
        newSha256().update(extra.subarray(from, from + holes.readUInt32LE(h + 8))).digest().copy(records, at + AT_DIGEST);
      }
    }
    const batches: Promise<HashBatch>[] = [];
    for (let i = 0; i < fds.length; i += BATCH) batches.push(pool!.hash(fds.slice(i, i + BATCH)));
    return { chunk, files, batches };
  };
  // Writes a chunk once its files are hashed: each file's record takes the opened inode's stat (what was hashed).
  const finish = async (p: Pending) => {
    const { records } = p.chunk;
    for (let b = 0; b < p.batches.length; b++) {
      const r = await p.batches[b]!;
      result.hashedBytes += r.bytes;
      for (let i = 0; i < r.answers.length / ANSWER; i++) {
        const at = p.files[b * BATCH + i]!;
        const error = r.errors?.[i];
        if (error !== undefined) {
          const where = `${baseDir}/${displayPath(records.toString('latin1', at + AT_PATH, at + 4 + records.readUInt32LE(at)) as RelPath)}`;
          if (error === NOT_A_FILE) throw new StateOverlayError('io', `${where}: replaced while being indexed`, { path: where });
          throw new StateOverlayError('io', `hash ${where}: ${error}`, { path: where });
        }
        r.answers.copy(records, at + AT_MODE, i * ANSWER, i * ANSWER + FIELDS);
        r.answers.copy(records, at + AT_DIGEST, i * ANSWER + FIELDS, (i + 1) * ANSWER);
      }
    }
    result.reusedDigests += p.chunk.reused;
    writeOut(enc.records(records, p.chunk.offsets));
    result.entries += p.chunk.entries;
    opts.onProgress?.(result.entries, prev.total);
  };
  try {
    prev = previousRecords(opts.previous);
    pool = new HashPool(opts.threads);
    writeOut(enc.head(opts.classes));
    try {
      walk = indexWalk(baseDir, skip.watch ?? null, prev.records, CHUNK_FILES);
      for (let c; (c = indexNext(walk, (p) => skip(p as RelPath))) !== null; ) {
        inFlight.push(start(c));
        if (inFlight.length >= CHUNKS_IN_FLIGHT) await finish(inFlight.shift()!);
      }
    } catch (err) {
      throw walkError(baseDir, err);
    }
    while (inFlight.length > 0) await finish(inFlight.shift()!);
    // Digests were taken from it: it must be the manifest its trailer says.
    await prev.checked;
    writeOut(enc.end());
    writeOut(await hashStreamDigest(digest));
    fs.fsyncSync(out);
    fs.closeSync(out);
    out = -1;
    fs.renameSync(tmp, outFile);
    fsyncDir(path.dirname(outFile));
    removeStaleTemps(path.dirname(outFile), MANIFEST_TEMP);
    result.bytes = written;
    opts.onProgress?.(result.entries, result.entries);
    return result;
  } catch (err) {
    if (out !== -1) closeQuietly(out);
    fs.rmSync(tmp, { force: true });
    if (err instanceof StateOverlayError) throw err;
    throw ioError('index', baseDir, err);
  } finally {
    if (walk !== undefined) indexEnd(walk);
    prev.file?.close();
    // The files of chunks not written are the pool's already: it closes them, and is waited for.
    await pool?.close();
  }
}

const NO_SKIP: Skip = Object.assign(() => false, { watch: [] });
