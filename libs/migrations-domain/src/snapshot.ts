/** What the target database holds, read before a plan is checked (the executor reads the catalog). */
export interface ColumnInfo {
  name: string;
  /** As `format_type` prints it, e.g. `integer`, `character varying(20)`. */
  type: string;
  nullable: boolean;
  /** SQL expression of the default, or null. */
  default: string | null;
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
}

export interface SchemaSnapshot {
  schema: string;
  tables: TableInfo[];
  indexes: string[];
  constraints: string[];
}

export const emptySnapshot = (schema: string): SchemaSnapshot => ({
  schema,
  tables: [],
  indexes: [],
  constraints: [],
});
