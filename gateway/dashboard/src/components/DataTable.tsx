import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type OnChangeFn,
  type Row,
  type RowSelectionState,
  type SortingState,
} from "@tanstack/react-table";
import { useState, type HTMLAttributes, type ReactNode } from "react";

export interface DataTableProps<T> {
  data: T[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- column value types differ per column
  columns: ColumnDef<T, any>[];
  getRowId: (row: T) => string;
  caption?: string;
  empty?: ReactNode;
  rowTestId?: string;
  rowAttributes?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string | undefined>;
  rowSelection?: RowSelectionState;
  onRowSelectionChange?: OnChangeFn<RowSelectionState>;
  sortable?: boolean;
  testId?: string;
}

/** A table on TanStack Table: sortable headers, optional row selection, scrolls sideways on phones. */
export function DataTable<T>(props: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const selectable = props.rowSelection !== undefined;
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Table hands back unstable functions; this component is not memoized by the compiler
  const table = useReactTable({
    data: props.data,
    columns: props.columns,
    getRowId: (row) => props.getRowId(row),
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: props.sortable ? getSortedRowModel() : undefined,
    state: { sorting, ...(selectable ? { rowSelection: props.rowSelection } : {}) },
    onSortingChange: setSorting,
    enableRowSelection: selectable,
    onRowSelectionChange: props.onRowSelectionChange,
    enableSorting: props.sortable ?? false,
  });

  if (props.data.length === 0 && props.empty) return <>{props.empty}</>;

  const rowAttrs = (row: Row<T>) => props.rowAttributes?.(row.original) ?? {};

  return (
    <div className="table-wrap" data-testid={props.testId}>
      <table className="table">
        {props.caption && <caption className="sr-only">{props.caption}</caption>}
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => {
                const sorted = h.column.getIsSorted();
                return (
                  <th
                    key={h.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                  >
                    {h.isPlaceholder ? null : h.column.getCanSort() ? (
                      <button type="button" className="th-sort" onClick={h.column.getToggleSortingHandler()}>
                        {flexRender(h.column.columnDef.header, h.getContext())}
                        <span aria-hidden="true">{sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}</span>
                      </button>
                    ) : (
                      flexRender(h.column.columnDef.header, h.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr
              key={row.id}
              data-testid={props.rowTestId}
              aria-selected={selectable ? row.getIsSelected() : undefined}
              {...rowAttrs(row)}
            >
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
