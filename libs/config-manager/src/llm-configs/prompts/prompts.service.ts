import { LlmConfigEventType } from '@llmops/contracts';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import { LRUCache } from 'lru-cache';
import type { EntityManager } from 'typeorm';
import { assertAllowed, type ConfigActor } from '../../configs/config-access.js';
import { assertNamespace, DEFAULT_ENVIRONMENT_CHAIN } from '../../configs/config-path.js';
import { ConfigException, ConfigExceptionCode } from '../../configs/exceptions/config.exception.js';
import { declareVariables, parseTemplate, renderTemplate, type PromptVariableDeclaration, type TemplatePart } from './prompt-template.js';
import { compareSemanticVersions, formatSemanticVersion, parseSemanticVersion, type SemanticVersion } from './semantic-version.js';
import { pickVariant, type WeightedVariant } from './variant-selection.js';

export interface PromptVersionRecord {
  namespace: string;
  name: string;
  version: string;
  template: string;
  variables: PromptVariableDeclaration[];
  description: string;
  createdBy: string;
  createdAt: Date;
}

export interface PromptLabelRecord {
  label: string;
  variants: WeightedVariant[];
  revision: number;
  updatedBy: string;
  updatedAt: Date;
}

/** A prompt as a namespace's listing shows it. */
export interface PromptSummaryRecord {
  namespace: string;
  name: string;
  latestVersion: string;
  labels: PromptLabelRecord[];
  createdBy: string;
  createdAt: Date;
  /** Its newest version's creation or its latest label move, whichever is later. */
  updatedAt: Date;
}

export interface RenderedPrompt {
  text: string;
  version: string;
  label?: string;
  variant: number;
  defaulted: string[];
}

/** Letters, digits and `-`, starting with a letter: never a version, and never a word the REST paths use. */
const PROMPT_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const RESERVED_PROMPT_NAMES = ['versions', 'labels', 'render'];
const LABEL = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Always the newest version; it moves by itself, so nobody sets it. */
export const LATEST_LABEL = 'latest';
/** What a render without label or version serves, as in Langfuse. */
export const DEFAULT_RENDER_LABEL = 'production';
export const MAX_VARIANTS = 10;
const MAX_WEIGHT = 1_000_000;
const PARSED_VERSIONS_CACHED = 5_000;

/**
 * Prompt templates (seed 001 §6.2): immutable semantic versions, labels that point at one version or at several with
 * weights (A/B tests), and rendering with required/optional variables.
 *
 * Prompts have no environment; labels stand in for one. A label named like an environment (base, development,
 * staging, production) needs the configs permission in that environment to move or render it; any other label, and
 * versions themselves, need it in development: a version serves nobody until a label points at it.
 */
export class PromptsService {
  /** Versions never change, so a parsed one can be kept for as long as memory allows. */
  private readonly parsed = new LRUCache<string, { record: PromptVersionRecord; parts: TemplatePart[] }>({ max: PARSED_VERSIONS_CACHED });

  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
  ) {}

  async createVersion(
    actor: ConfigActor,
    command: { namespace: string; name: string; version: string; template: string; variables: PromptVariableDeclaration[]; description: string },
  ): Promise<PromptVersionRecord> {
    this.assertPrompt(command);
    assertAllowed(actor, 'configs:write', 'development');
    const version = parseSemanticVersion(command.version);
    const variables = declareVariables(parseTemplate(command.template), command.variables);
    return this.database.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO ${this.table('prompts')} (namespace, name, created_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        command.namespace,
        command.name,
        actor.principal.id,
      ]);
      await this.lockPrompt(manager, command);
      const newest = await this.newestVersion(manager, command);
      if (newest && compareSemanticVersions(version, newest) <= 0) {
        throw new ConfigException(
          ConfigExceptionCode.Conflict,
          `version ${command.version} of ${command.namespace}/${command.name} must be greater than its newest version ${formatSemanticVersion(newest)}`,
          'version',
        );
      }
      const [row] = (await manager.query(
        `INSERT INTO ${this.table('prompt_versions')} (namespace, name, major, minor, patch, template, variables, description, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [command.namespace, command.name, version.major, version.minor, version.patch, command.template, JSON.stringify(variables), command.description, actor.principal.id],
      )) as Array<Record<string, unknown>>;
      const record = versionOf(row!);
      await this.outbox.add(manager, {
        type: LlmConfigEventType.PromptVersionCreated,
        subject: subjectOf(command),
        payload: { namespace: command.namespace, name: command.name, version: record.version, variables: variables.map((variable) => variable.name) },
        actor: actorOf(actor),
        correlationId: actor.requestId,
      });
      return record;
    });
  }

  /** The prompts of `namespace` (not of the namespaces below it), by name. */
  async listPrompts(actor: ConfigActor, namespace: string): Promise<PromptSummaryRecord[]> {
    assertNamespace(namespace);
    assertAllowed(actor, 'configs:read', 'development');
    // Versions only grow, so the newest by number is also the last one created.
    const prompts = (await this.database.dataSource.query(
      `SELECT p.name, p.created_by, p.created_at, v.major, v.minor, v.patch, v.created_at AS version_created_at
         FROM ${this.table('prompts')} p
         JOIN LATERAL (
           SELECT major, minor, patch, created_at FROM ${this.table('prompt_versions')}
            WHERE namespace = p.namespace AND name = p.name ORDER BY major DESC, minor DESC, patch DESC LIMIT 1
         ) v ON true
        WHERE p.namespace = $1
        ORDER BY p.name`,
      [namespace],
    )) as Array<Record<string, unknown>>;
    const labels = new Map<string, PromptLabelRecord[]>();
    for (const row of (await this.database.dataSource.query(`SELECT * FROM ${this.table('prompt_labels')} WHERE namespace = $1 ORDER BY name, label`, [
      namespace,
    ])) as Array<Record<string, unknown>>) {
      labels.set(String(row.name), [...(labels.get(String(row.name)) ?? []), labelOf(row)]);
    }
    return prompts.map((row) => {
      const own = labels.get(String(row.name)) ?? [];
      const updated = Math.max(new Date(row.version_created_at as string | Date).getTime(), ...own.map((label) => label.updatedAt.getTime()));
      return {
        namespace,
        name: String(row.name),
        latestVersion: `${row.major}.${row.minor}.${row.patch}`,
        labels: own,
        createdBy: String(row.created_by),
        createdAt: new Date(row.created_at as string | Date),
        updatedAt: new Date(updated),
      };
    });
  }

  async getPrompt(actor: ConfigActor, ref: { namespace: string; name: string }): Promise<{ versions: PromptVersionRecord[]; labels: PromptLabelRecord[] }> {
    this.assertPrompt(ref);
    assertAllowed(actor, 'configs:read', 'development');
    const versions = ((await this.database.dataSource.query(
      `SELECT * FROM ${this.table('prompt_versions')} WHERE namespace = $1 AND name = $2 ORDER BY major DESC, minor DESC, patch DESC`,
      [ref.namespace, ref.name],
    )) as Array<Record<string, unknown>>).map(versionOf);
    if (versions.length === 0) throw this.notFound(ref);
    const labels = ((await this.database.dataSource.query(
      `SELECT * FROM ${this.table('prompt_labels')} WHERE namespace = $1 AND name = $2 ORDER BY label`,
      [ref.namespace, ref.name],
    )) as Array<Record<string, unknown>>).map(labelOf);
    return { versions, labels };
  }

  async getVersion(actor: ConfigActor, ref: { namespace: string; name: string; version: string }): Promise<PromptVersionRecord> {
    this.assertPrompt(ref);
    assertAllowed(actor, 'configs:read', 'development');
    return (await this.parsedVersion(ref, parseSemanticVersion(ref.version))).record;
  }

  /** Points `label` at its variants; the move and what it replaced are an audited event. */
  async setLabel(
    actor: ConfigActor,
    command: { namespace: string; name: string; label: string; variants: WeightedVariant[]; expectedRevision?: number },
  ): Promise<PromptLabelRecord> {
    this.assertPrompt(command);
    assertLabel(command.label);
    if (command.label === LATEST_LABEL) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `label ${LATEST_LABEL} always means the newest version and cannot be set`, 'label');
    }
    assertAllowed(actor, 'configs:write', environmentOfLabel(command.label));
    const variants = checkedVariants(command.variants);
    return this.database.dataSource.transaction(async (manager) => {
      if (!(await this.lockPrompt(manager, command))) throw this.notFound(command);
      const versions = variants.map((variant, index) => ({ ...parseSemanticVersion(variant.version, `variants[${index}].version`), index }));
      const found = (await manager.query(
        `SELECT major, minor, patch FROM ${this.table('prompt_versions')} v
          WHERE namespace = $1 AND name = $2 AND (major, minor, patch) IN (SELECT * FROM unnest($3::int[], $4::int[], $5::int[]))`,
        [command.namespace, command.name, versions.map((v) => v.major), versions.map((v) => v.minor), versions.map((v) => v.patch)],
      )) as SemanticVersion[];
      const missing = versions.find((wanted) => !found.some((row) => compareSemanticVersions(row, wanted) === 0));
      if (missing) {
        throw new ConfigException(
          ConfigExceptionCode.InvalidValue,
          `${command.namespace}/${command.name} has no version ${formatSemanticVersion(missing)}`,
          `variants[${missing.index}].version`,
        );
      }
      const [current] = (await manager.query(`SELECT * FROM ${this.table('prompt_labels')} WHERE namespace = $1 AND name = $2 AND label = $3`, [
        command.namespace,
        command.name,
        command.label,
      ])) as Array<Record<string, unknown>>;
      const previous = current ? labelOf(current) : undefined;
      if (command.expectedRevision !== undefined && command.expectedRevision !== (previous?.revision ?? 0)) {
        throw new ConfigException(
          ConfigExceptionCode.VersionConflict,
          `label ${command.label} of ${command.namespace}/${command.name} is at revision ${previous?.revision ?? 0}, not ${command.expectedRevision}`,
          'expected_revision',
        );
      }
      const [row] = (await manager.query(
        `INSERT INTO ${this.table('prompt_labels')} AS current (namespace, name, label, variants, revision, updated_by)
         VALUES ($1, $2, $3, $4, 1, $5)
         ON CONFLICT (namespace, name, label) DO UPDATE SET variants = EXCLUDED.variants, revision = current.revision + 1,
           updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING *`,
        [command.namespace, command.name, command.label, JSON.stringify(variants), actor.principal.id],
      )) as Array<Record<string, unknown>>;
      const label = labelOf(row!);
      await this.outbox.add(manager, {
        type: LlmConfigEventType.PromptLabelMoved,
        subject: subjectOf(command),
        payload: {
          namespace: command.namespace,
          name: command.name,
          label: command.label,
          revision: label.revision,
          variants: variants.map((variant) => ({ version: variant.version, weight: variant.weight })),
          previous_variants: previous ? previous.variants.map((variant) => ({ version: variant.version, weight: variant.weight })) : null,
        },
        actor: actorOf(actor),
        correlationId: actor.requestId,
      });
      return label;
    });
  }

  /** Removes `label`; it needs what moving it needs, and the removal and what the label served are an audited event. */
  async deleteLabel(actor: ConfigActor, command: { namespace: string; name: string; label: string; expectedRevision?: number }): Promise<PromptLabelRecord> {
    this.assertPrompt(command);
    assertLabel(command.label);
    if (command.label === LATEST_LABEL) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `label ${LATEST_LABEL} always means the newest version and cannot be removed`, 'label');
    }
    assertAllowed(actor, 'configs:write', environmentOfLabel(command.label));
    return this.database.dataSource.transaction(async (manager) => {
      if (!(await this.lockPrompt(manager, command))) throw this.notFound(command);
      const [current] = (await manager.query(`SELECT * FROM ${this.table('prompt_labels')} WHERE namespace = $1 AND name = $2 AND label = $3`, [
        command.namespace,
        command.name,
        command.label,
      ])) as Array<Record<string, unknown>>;
      if (!current) {
        throw new ConfigException(ConfigExceptionCode.NotFound, `prompt ${command.namespace}/${command.name} has no label ${command.label}`, 'label');
      }
      const removed = labelOf(current);
      if (command.expectedRevision !== undefined && command.expectedRevision !== removed.revision) {
        throw new ConfigException(
          ConfigExceptionCode.VersionConflict,
          `label ${command.label} of ${command.namespace}/${command.name} is at revision ${removed.revision}, not ${command.expectedRevision}`,
          'expected_revision',
        );
      }
      await manager.query(`DELETE FROM ${this.table('prompt_labels')} WHERE namespace = $1 AND name = $2 AND label = $3`, [
        command.namespace,
        command.name,
        command.label,
      ]);
      await this.outbox.add(manager, {
        type: LlmConfigEventType.PromptLabelDeleted,
        subject: subjectOf(command),
        payload: {
          namespace: command.namespace,
          name: command.name,
          label: command.label,
          revision: removed.revision,
          previous_variants: removed.variants.map((variant) => ({ version: variant.version, weight: variant.weight })),
        },
        actor: actorOf(actor),
        correlationId: actor.requestId,
      });
      return removed;
    });
  }

  /**
   * Renders the version `version` names, or the one `label` selects (the production label when neither is given). A
   * label with several variants picks one by `subject`, the same one every time for the same subject, or at random.
   */
  async render(
    actor: ConfigActor,
    request: { namespace: string; name: string; label?: string; version?: string; variables: Record<string, string>; subject?: string },
  ): Promise<RenderedPrompt> {
    this.assertPrompt(request);
    if (request.label && request.version) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, 'give label or version, not both', 'label');
    }
    if (request.version) {
      assertAllowed(actor, 'configs:read', 'development');
      const { record, parts } = await this.parsedVersion(request, parseSemanticVersion(request.version));
      return { ...renderTemplate(parts, record.variables, request.variables), version: record.version, variant: 0 };
    }
    const label = request.label || DEFAULT_RENDER_LABEL;
    assertLabel(label);
    assertAllowed(actor, 'configs:read', environmentOfLabel(label));
    const variants = await this.variantsOf(request, label);
    const variant = pickVariant(variants, `${request.namespace}/${request.name}#${label}`, request.subject || undefined);
    const { record, parts } = await this.parsedVersion(request, parseSemanticVersion(variants[variant]!.version));
    return { ...renderTemplate(parts, record.variables, request.variables), version: record.version, label, variant };
  }

  private async variantsOf(ref: { namespace: string; name: string }, label: string): Promise<WeightedVariant[]> {
    if (label === LATEST_LABEL) {
      const newest = await this.newestVersion(this.database.dataSource.manager, ref);
      if (!newest) throw this.notFound(ref);
      return [{ version: formatSemanticVersion(newest), weight: 1 }];
    }
    const [row] = (await this.database.dataSource.query(
      `SELECT * FROM ${this.table('prompt_labels')} WHERE namespace = $1 AND name = $2 AND label = $3`,
      [ref.namespace, ref.name, label],
    )) as Array<Record<string, unknown>>;
    if (!row) {
      throw new ConfigException(ConfigExceptionCode.NotFound, `prompt ${ref.namespace}/${ref.name} has no label ${label}`, 'label');
    }
    return labelOf(row).variants;
  }

  private async parsedVersion(ref: { namespace: string; name: string }, version: SemanticVersion): Promise<{ record: PromptVersionRecord; parts: TemplatePart[] }> {
    const cacheKey = `${ref.namespace}/${ref.name}@${formatSemanticVersion(version)}`;
    const cached = this.parsed.get(cacheKey);
    if (cached) return cached;
    const [row] = (await this.database.dataSource.query(
      `SELECT * FROM ${this.table('prompt_versions')} WHERE namespace = $1 AND name = $2 AND major = $3 AND minor = $4 AND patch = $5`,
      [ref.namespace, ref.name, version.major, version.minor, version.patch],
    )) as Array<Record<string, unknown>>;
    if (!row) {
      throw new ConfigException(ConfigExceptionCode.NotFound, `prompt ${ref.namespace}/${ref.name} has no version ${formatSemanticVersion(version)}`, 'version');
    }
    const record = versionOf(row);
    const parsed = { record, parts: parseTemplate(record.template) };
    this.parsed.set(cacheKey, parsed);
    return parsed;
  }

  /** Takes the prompt's row lock for the rest of the transaction; false when the prompt does not exist. */
  private async lockPrompt(manager: EntityManager, ref: { namespace: string; name: string }): Promise<boolean> {
    const rows = (await manager.query(`SELECT 1 FROM ${this.table('prompts')} WHERE namespace = $1 AND name = $2 FOR UPDATE`, [ref.namespace, ref.name])) as unknown[];
    return rows.length > 0;
  }

  private async newestVersion(manager: EntityManager, ref: { namespace: string; name: string }): Promise<SemanticVersion | undefined> {
    const [row] = (await manager.query(
      `SELECT major, minor, patch FROM ${this.table('prompt_versions')} WHERE namespace = $1 AND name = $2 ORDER BY major DESC, minor DESC, patch DESC LIMIT 1`,
      [ref.namespace, ref.name],
    )) as SemanticVersion[];
    return row;
  }

  private assertPrompt(ref: { namespace: string; name: string }): void {
    assertNamespace(ref.namespace);
    if (!PROMPT_NAME.test(ref.name) || RESERVED_PROMPT_NAMES.includes(ref.name)) {
      throw new ConfigException(
        ConfigExceptionCode.InvalidPath,
        `prompt name ${JSON.stringify(ref.name)} must match ${PROMPT_NAME.source} and not be ${RESERVED_PROMPT_NAMES.join(', ')}`,
        'name',
      );
    }
  }

  private notFound(ref: { namespace: string; name: string }): ConfigException {
    return new ConfigException(ConfigExceptionCode.NotFound, `prompt ${ref.namespace}/${ref.name} not found`);
  }

  private table(name: string): string {
    return `${this.database.schema}.${name}`;
  }
}

/** The environment whose configs permission a label needs: its own name if it is one, else development. */
export function environmentOfLabel(label: string): string {
  return (DEFAULT_ENVIRONMENT_CHAIN as readonly string[]).includes(label) ? label : 'development';
}

function assertLabel(label: string): void {
  if (!LABEL.test(label)) throw new ConfigException(ConfigExceptionCode.InvalidValue, `label ${JSON.stringify(label)} must match ${LABEL.source}`, 'label');
}

function checkedVariants(variants: WeightedVariant[]): WeightedVariant[] {
  if (variants.length === 0 || variants.length > MAX_VARIANTS) {
    throw new ConfigException(ConfigExceptionCode.InvalidValue, `a label points at 1 to ${MAX_VARIANTS} versions`, 'variants');
  }
  const seen = new Set<string>();
  return variants.map((variant, index) => {
    if (!Number.isInteger(variant.weight) || variant.weight < 1 || variant.weight > MAX_WEIGHT) {
      throw new ConfigException(ConfigExceptionCode.InvalidValue, `variants[${index}].weight must be an integer from 1 to ${MAX_WEIGHT}`, `variants[${index}].weight`);
    }
    const version = formatSemanticVersion(parseSemanticVersion(variant.version, `variants[${index}].version`));
    if (seen.has(version)) throw new ConfigException(ConfigExceptionCode.InvalidValue, `version ${version} appears twice`, `variants[${index}].version`);
    seen.add(version);
    return { version, weight: variant.weight };
  });
}

function versionOf(row: Record<string, unknown>): PromptVersionRecord {
  return {
    namespace: String(row.namespace),
    name: String(row.name),
    version: `${row.major}.${row.minor}.${row.patch}`,
    template: String(row.template),
    variables: parseJson(row.variables) as PromptVariableDeclaration[],
    description: String(row.description),
    createdBy: String(row.created_by),
    createdAt: new Date(row.created_at as string | Date),
  };
}

function labelOf(row: Record<string, unknown>): PromptLabelRecord {
  return {
    label: String(row.label),
    variants: parseJson(row.variants) as WeightedVariant[],
    revision: Number(row.revision),
    updatedBy: String(row.updated_by),
    updatedAt: new Date(row.updated_at as string | Date),
  };
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function subjectOf(ref: { namespace: string; name: string }): string {
  return `prompts/${ref.namespace}/${ref.name}`;
}

function actorOf(actor: ConfigActor): { id: string; type: string; ipAddress?: string; userAgent?: string } {
  return { id: actor.principal.id, type: actor.principal.type, ipAddress: actor.ip, userAgent: actor.userAgent };
}
