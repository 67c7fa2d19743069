// systemd path escaping (systemd-escape --path / --unescape --path), byte for byte.

const PLAIN = /^[A-Za-z0-9:_.]$/;

function escapeByte(b: number): string {
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/** Collapses duplicate slashes, drops `.` components; refuses `..` and relative paths as systemd does. */
export function normalizePath(path: string): string {
  if (!path.startsWith('/')) throw new Error(`'${path}' is not an absolute path`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`'${path}' is not a normalized path (contains '..')`);
  return '/' + parts.join('/');
}

/** `systemd-escape --path PATH`. */
export function escapePath(path: string): string {
  const norm = normalizePath(path);
  if (norm === '/') return '-';
  const bytes = Buffer.from(norm.slice(1), 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const ch = String.fromCharCode(b);
    if (ch === '/') out += '-';
    else if (b < 0x80 && PLAIN.test(ch) && !(ch === '.' && i === 0)) out += ch;
    else out += escapeByte(b);
  }
  return out;
}

/** `systemd-escape --unescape --path NAME`; throws on what systemd refuses. */
export function unescapePath(name: string): string {
  if (name === '-') return '/';
  if (name === '' || name.startsWith('-') || name.endsWith('-') || name.includes('--')) {
    throw new Error(`'${name}' is not a valid escaped path`);
  }
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (ch === '-') bytes.push(0x2f);
    else if (ch === '\\') {
      const m = /^x([0-9a-fA-F]{2})/.exec(name.slice(i + 1));
      if (!m) throw new Error(`'${name}' has an invalid escape at offset ${i}`);
      bytes.push(parseInt(m[1]!, 16));
      i += 3;
    } else {
      const code = name.charCodeAt(i);
      if (code > 0x7f) bytes.push(...Buffer.from(ch, 'utf8'));
      else bytes.push(code);
    }
  }
  const decoded = Buffer.from(bytes);
  const path = '/' + decoded.toString('utf8');
  if (!Buffer.from(path.slice(1), 'utf8').equals(decoded)) {
    throw new Error(`'${name}' does not decode to valid UTF-8`);
  }
  if (path.split('/').some((c) => c === '..' || c === '.')) {
    throw new Error(`'${name}' unescapes to a non-normalized path`);
  }
  return path;
}
