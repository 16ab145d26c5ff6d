/** Small statistics shared by the benchmarks: each prints medians and high percentiles. */

/** The percentile at `fraction` (0.5 median, 0.95 …) by nearest rank; 0 for no samples. */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return 0;

  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}

/** Rounds for tables and the JSON line. */
export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** Renders rows as an aligned text table: the first row is the header, numbers align right. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
      )
      .join('  ');

  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}
