import type { MigrationInterface, QueryRunner } from 'typeorm';

// TypeORM orders migrations by the 13-digit millisecond timestamp that ends the class name.
const MIGRATION_NAME = /^[A-Z][A-Za-z0-9]*\d{13}$/;

export type MigrationClass = new () => MigrationInterface;

/**
 * A migration made of reviewed SQL: `up` and `down` statements run in order on the migration's connection.
 * Statements should qualify tables with the service's schema.
 */
export function sqlMigration(name: string, up: readonly string[], down: readonly string[]): MigrationClass {
  if (!MIGRATION_NAME.test(name)) {
    throw new Error(
      `migration name "${name}" must be PascalCase and end with a 13-digit timestamp, e.g. CreateUsers1763800000000`,
    );
  }
  const migration = class implements MigrationInterface {
    // TypeORM reads the name from the instance (then the class) to record and order the migration.
    readonly name = name;

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
