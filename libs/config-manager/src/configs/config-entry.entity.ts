import { randomUUID } from 'node:crypto';
import { BeforeInsert, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** One version of one key in one environment. Rows are never updated: a write or delete appends a version. */
@Entity({ name: 'config_entries' })
@Index('config_entries_key_version', ['namespace', 'key', 'environment', 'version'], { unique: true })
export class ConfigEntryEntity {
  // Generated here, not by TypeORM: its generated-uuid columns try to install uuid-ossp, which PGlite lacks.
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  environment!: string;

  @Column({ type: 'integer' })
  version!: number;

  /** Global revision of the write (monotonic across all keys, in commit order). */
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  revision!: number;

  @Column({ type: 'jsonb', nullable: true })
  value!: unknown;

  @Column({ type: 'text' })
  classification!: string;

  /** A tombstone: the key was deleted in this version. */
  @Column({ type: 'boolean', default: false })
  deleted!: boolean;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @BeforeInsert()
  assignId(): void {
    this.id ??= randomUUID();
  }
}
