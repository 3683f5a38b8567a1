const plainIdentifier = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * `"schema"."table"` for SQL built from configuration. Schema names cannot be bound as parameters, so only plain
 * lower-case identifiers are accepted, which also rules out injection.
 */
export function qualifiedTable(schema: string, table: string): string {
  if (!plainIdentifier.test(schema)) {
    throw new Error(`Invalid schema name "${schema}": use lower-case letters, digits and underscores`);
  }
  return `"${schema}"."${table}"`;
}
