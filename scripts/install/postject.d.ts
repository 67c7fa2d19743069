// The part of postject's API (dist/api.js, untyped) the single executable's build uses.
declare module 'postject' {
  export function inject(file: string, resource: string, data: Buffer, options?: { sentinelFuse?: string; overwrite?: boolean }): Promise<void>;
}
