import { sqlMigration } from '@llmops/platform-persistence';

/**
 * The audit log as an RFC 9162 Merkle tree: every entry gets a leaf index; the hashes of every perfect subtree are
 * kept (level 0 = the leaves), so any inclusion or consistency proof is one indexed read; the tree's right edge
 * (frontier) sits in one locked row, which serializes appends across replicas; each appended batch gets a signed
 * tree head. Entries that existed before this migration are numbered here, in arrival order, and hashed into the
 * tree at the next start (`backfill_size`).
 */
export const AddMerkleLog1763900000000 = sqlMigration(
  'AddMerkleLog1763900000000',
  [
    `ALTER TABLE audit_service.audit_logs ADD COLUMN leaf_index bigint`,
    `UPDATE audit_service.audit_logs AS entry SET leaf_index = numbered.position - 1
       FROM (SELECT id, created_at, row_number() OVER (ORDER BY received_at, id) AS position
               FROM audit_service.audit_logs) AS numbered
      WHERE entry.id = numbered.id AND entry.created_at = numbered.created_at`,
    `CREATE INDEX audit_logs_leaf_index ON audit_service.audit_logs (leaf_index)`,
    `CREATE INDEX audit_logs_id ON audit_service.audit_logs (id)`,
    `CREATE TABLE audit_service.merkle_nodes (
       level smallint NOT NULL,
       index bigint NOT NULL,
       hash bytea NOT NULL,
       PRIMARY KEY (level, index)
     )`,
    `CREATE TABLE audit_service.merkle_tree_state (
       singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
       tree_size bigint NOT NULL,
       frontier bytea[] NOT NULL,
       backfill_size bigint NOT NULL,
       -- Tree heads are signed with non-decreasing timestamps even if the clock steps back.
       signed_at_ms bigint NOT NULL DEFAULT 0
     )`,
    `INSERT INTO audit_service.merkle_tree_state (tree_size, frontier, backfill_size)
       SELECT 0, '{}', count(*) FROM audit_service.audit_logs`,
    `CREATE TABLE audit_service.signing_keys (
       key_id char(64) PRIMARY KEY,
       algorithm varchar(20) NOT NULL,
       public_key_pem text NOT NULL,
       activated_at timestamptz NOT NULL DEFAULT now(),
       retired_at timestamptz
     )`,
    `CREATE TABLE audit_service.tree_heads (
       tree_size bigint PRIMARY KEY,
       root_hash bytea NOT NULL,
       signed_at_ms bigint NOT NULL,
       key_id char(64) NOT NULL REFERENCES audit_service.signing_keys (key_id),
       signature bytea NOT NULL
     )`,
    // Leaves whose entries retention removed: the tree keeps their hashes, verification expects no row for them.
    `CREATE TABLE audit_service.pruned_leaves (
       leaf_index bigint PRIMARY KEY,
       partition_name text NOT NULL
     )`,
  ],
  [
    `DROP TABLE audit_service.pruned_leaves`,
    `DROP TABLE audit_service.tree_heads`,
    `DROP TABLE audit_service.signing_keys`,
    `DROP TABLE audit_service.merkle_tree_state`,
    `DROP TABLE audit_service.merkle_nodes`,
    `DROP INDEX audit_service.audit_logs_id`,
    `DROP INDEX audit_service.audit_logs_leaf_index`,
    `ALTER TABLE audit_service.audit_logs DROP COLUMN leaf_index`,
  ],
);
