import type { MigrationInterface, QueryRunner } from 'typeorm';

const MIGRATION_NAME = /^[A-Z][A-Za-z0-9]*\d{13}$/;

export type SqlMigrationClass = new () => MigrationInterface;

/**
 * A reviewed-SQL migration: `up` and `down` statements run in order. TypeORM orders migrations by the 13-digit
 * timestamp that ends the name (e.g. `CreateConfigEntries1763800000000`), so the name is checked here.
 */
export function sqlMigration(name: string, up: readonly string[], down: readonly string[]): SqlMigrationClass {
  if (!MIGRATION_NAME.test(name)) {
    throw new Error(`migration name "${name}" must be PascalCase and end with a 13-digit timestamp, e.g. CreateUsers1763800000000`);
  }
  const migration = class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      for (const statement of up) await queryRunner.query(statement);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      for (const statement of down) await queryRunner.query(statement);
    }
  };
  Object.defineProperty(migration, 'name', { value: name });
  return migration;
}
