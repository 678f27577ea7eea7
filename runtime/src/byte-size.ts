/** Sizes in bytes, read from config and options (`1MiB`, `500kb`, `1048576`) and written in messages. */

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * `1048576`, `1MiB`, `1 mb`, `512KiB`, `2GB` -> bytes (`kb`, `mb`, `gb` are powers of 1000, as in
 * Loco's `5mb`; `kib`, `mib`, `gib` powers of 1024; case does not matter). `undefined` when the
 * value is not a size: the caller says what it expected, naming its key or option.
 */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SIZE.exec(value.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] || 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** What `parseByteSize` takes, for messages. */
export const BYTE_SIZE_HINT = 'a number of bytes or a size such as 512KiB, 1MiB, 5MB or 1GiB';

/** Bytes as text: `1 MiB` when it is a round number of KiB, MiB or GiB, else `1048577 bytes (1.0 MiB)`. */
export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ];
  for (const [name, size] of units) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${name}`;
  }
  const near = units.find(([, size]) => bytes >= size);
  return near
    ? `${bytes} bytes (${(bytes / near[1]).toFixed(1)} ${near[0]})`
    : `${bytes} byte${bytes === 1 ? '' : 's'}`;
}
