// Schema names are interpolated into DDL and search_path, so only plain lower-case identifiers are accepted.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`schema name "${schema}" must be a plain identifier matching ${SCHEMA_NAME}`);
  }
}
