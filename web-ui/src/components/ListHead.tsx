/**
 * The head row of a `list` table: one title per column; an empty title is a column without one
 * (buttons), and `{ aria }` a column named only for screen readers (a checkbox column).
 */
export function ListHead({ columns }: { columns: (string | { aria: string })[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) =>
          typeof c === "string" ? c ? <th key={i}>{c}</th> : <th key={i} /> : <th key={i} aria-label={c.aria} />,
        )}
      </tr>
    </thead>
  );
}
