// Injected fs failures: one fs call fails on one path with an errno code, as a failing disk would,
// where no tree can be built that makes the kernel fail that way.
import fs from 'node:fs';
import { vi } from 'vitest';

type PathCall = 'lstatSync' | 'readlinkSync' | 'readdirSync' | 'rmdirSync' | 'realpathSync';

/** fs[call](target, …) throws code; calls on other paths go through. Undo with the spy's mockRestore() before the next. */
export function failOn(call: PathCall, target: string, code: string) {
  const real = fs[call] as (...args: unknown[]) => unknown;
  return vi.spyOn(fs, call).mockImplementation(((p: unknown, ...rest: unknown[]) => {
    if (String(p) === target) throw Object.assign(new Error(`${code}: injected, ${call} '${target}'`), { code, path: target });
    return real.call(fs, p, ...rest);
  }) as never);
}
