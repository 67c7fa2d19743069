// The one JSON model of every `--json` output: a document `{apiVersion, kind, ...body}` per result
// (as bootc's), and the one way a raw path is written in JSON.
import { displayPath, toBytes, type RelPath } from '../../model/entry.js';

/** The version of every document; it changes whenever a field is removed or changes meaning. */
export const API_VERSION = 'state-overlay/v1';

/** What each document is; docs/cli.md lists the command that prints each. */
export const KINDS = [
  'Status',
  'Diff',
  'ReconcileReport',
  'PreviewReport',
  'VacuumReport',
  'RestoreReport',
  'ResetReport',
  'BackupSets',
  'IndexReport',
  'RunReport',
  'MountReport',
  'UnmountReport',
  'Config',
  'Error',
] as const;
export type Kind = (typeof KINDS)[number];

/** The envelope's own fields: a body never sets them. */
type Body = object & { apiVersion?: never; kind?: never };

type Envelope<K extends Kind = Kind> = { readonly apiVersion: typeof API_VERSION; readonly kind: K };

export type Document<K extends Kind, B extends Body> = Envelope<K> & B;

export function document<K extends Kind, B extends Body>(kind: K, body: B): Document<K, B> {
  return { apiVersion: API_VERSION, kind, ...body };
}

/** A document as a command prints it: indented, the command's one result. */
export const jsonText = (doc: Envelope): string => JSON.stringify(doc, null, 2);

/** A document on one line: `run` prints one per result, so `run --watch` is a stream of JSON lines. */
export const jsonLine = (doc: Envelope): string => JSON.stringify(doc);

const base64Of = (p: RelPath): string => toBytes(p).toString('base64');

/**
 * A raw path as two fields: `name` for people (displayPath: UTF-8, or \xNN escapes where the bytes are
 * not printable UTF-8) and `nameBase64`, the exact bytes, always present.
 */
export function pathFields<N extends string>(name: N, p: RelPath): { [K in N | `${N}Base64`]: string } {
  return { [name]: displayPath(p), [`${name}Base64`]: base64Of(p) } as { [K in N | `${N}Base64`]: string };
}

/** A list of raw paths, by the same rule: `name` as shown, `nameBase64` the exact bytes, in the same order. */
export function pathListFields<N extends string>(name: N, ps: readonly RelPath[]): { [K in N | `${N}Base64`]: string[] } {
  return { [name]: ps.map(displayPath), [`${name}Base64`]: ps.map(base64Of) } as { [K in N | `${N}Base64`]: string[] };
}
