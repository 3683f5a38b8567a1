import { describe, expect, it } from '@jest/globals';
import { sqlMigration } from './sql-migration.js';

describe(sqlMigration.name, () => {
  it('names the class and its instances after the migration, as TypeORM records them', () => {
    const CreateWidgets1763800000000 = sqlMigration('CreateWidgets1763800000000', ['SELECT 1'], ['SELECT 2']);
    expect(CreateWidgets1763800000000.name).toBe('CreateWidgets1763800000000');
    expect(new CreateWidgets1763800000000().name).toBe('CreateWidgets1763800000000');
  });

  it.each(['create-widgets', 'CreateWidgets', 'CreateWidgets176380000000', 'createWidgets1763800000000'])(
    'refuses %s, which TypeORM could not order',
    (name) => {
      expect(() => sqlMigration(name, [], [])).toThrow(/13-digit timestamp/);
    },
  );
});
