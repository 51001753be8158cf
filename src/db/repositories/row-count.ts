// How many rows a raw db.execute() returned: pg and PGlite both answer { rows }.
export function rowCount(result: unknown): number {
  return (result as { rows: unknown[] }).rows.length;
}
