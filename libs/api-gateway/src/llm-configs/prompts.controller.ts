import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@llmops/platform-auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { optionalBigInt, versionFromIfMatch } from '../configs/config-requests.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { LLM_CONFIG_CLIENT, type LlmConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import {
  createPromptVersionBody,
  environmentOfLabel,
  namespaceQueryOf,
  promptTargetOf,
  renderEnvironmentOf,
  renderPromptBody,
  setPromptLabelBody,
  type SetPromptLabelBody,
} from './llm-config-requests.js';
import {
  promptLabelViewOf,
  promptListViewOf,
  promptVersionViewOf,
  promptViewOf,
  renderedPromptViewOf,
  type PromptLabelView,
  type PromptSummaryView,
  type PromptVersionView,
  type PromptView,
  type RenderedPromptView,
} from './llm-config-views.js';

const createVersionPipe = new ZodBodyPipe(createPromptVersionBody);
const renderPipe = new ZodBodyPipe(renderPromptBody);

/**
 * What a POST under /api/v1/prompts needs: a new version writes in development (it serves nobody until a label points
 * at it); a render reads in its label's environment. config-manager checks both again.
 */
const postPolicy = {
  permission: (request: FastifyRequest): 'configs:read' | 'configs:write' =>
    promptTargetOf(wildcardOf(request)).kind === 'render' ? 'configs:read' : 'configs:write',
  environment: (request: FastifyRequest): string =>
    promptTargetOf(wildcardOf(request)).kind === 'render' ? renderEnvironmentOf(request) : 'development',
};

/** Moving or removing a label named like an environment needs configs:write there; any other label, in development. */
const labelEnvironmentOf = (request: FastifyRequest): string => {
  const target = promptTargetOf(wildcardOf(request));
  return target.kind === 'label' ? environmentOfLabel(target.label) : 'development';
};

/**
 * Prompt templates (seed 001 §6.2): immutable semantic versions, labels such as production and staging that move
 * between versions (or split traffic between several), and rendering with {{variable}} substitution. Prompts have
 * no environment: a label named like one is guarded like it, everything else as development.
 */
@ApiTags('prompts')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/prompts')
export class PromptsController {
  constructor(@Inject(LLM_CONFIG_CLIENT) private readonly llm: LlmConfigClient) {}

  @Get()
  @RequirePermission('configs:read', { environment: () => 'development' })
  @ApiOperation({
    summary: 'List the prompts of a namespace (not of those below it), by name, with their newest version and labels',
    description:
      'Answers {"data": [{"namespace", "name", "latest_version", "labels": [{"label", "variants": [{"version", "weight"}], ' +
      '"revision", "updated_by", "updated_at"}], "created_by", "created_at", "updated_at": the newest version\'s creation or ' +
      'the latest label move, whichever is later}]}; an empty list when the namespace has none.',
  })
  @ApiQuery({ name: 'namespace', required: true, description: 'e.g. acme/support' })
  async list(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal, @Query('namespace') namespace: unknown): Promise<{ data: PromptSummaryView[] }> {
    const response = await this.llm.listPrompts({ namespace: namespaceQueryOf(namespace) }, { metadata: upstreamMetadata(request, principal) });
    return promptListViewOf(response);
  }

  @Get('*')
  @RequirePermission('configs:read', { environment: () => 'development' })
  @ApiOperation({
    summary: '<namespace>/<name>: the prompt\'s versions (newest first) and labels; <namespace>/<name>/versions/<x.y.z>: one version',
    description:
      'A version is {"namespace", "name", "version", "template", "variables": [{"name", "required", "default", "description"}], ' +
      '"description", "created_by", "created_at"}; a label {"label", "variants": [{"version", "weight"}], "revision", "updated_by", "updated_at"}.',
  })
  @ApiParam({ name: '*', example: 'acme/support/answer' })
  async get(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal, @Param('*') path: string): Promise<PromptView | PromptVersionView> {
    const target = promptTargetOf(path);
    const metadata = upstreamMetadata(request, principal);
    if (target.kind === 'version') {
      const response = await this.llm.getPromptVersion({ namespace: target.namespace, name: target.name, version: target.version }, { metadata });
      return promptVersionViewOf(response.version);
    }
    if (target.kind !== 'prompt') throw notFound();
    const response = await this.llm.getPrompt({ namespace: target.namespace, name: target.name }, { metadata });
    return promptViewOf(target.namespace, target.name, response);
  }

  @Post('*')
  @HttpCode(200)
  @RequirePermission(postPolicy.permission, { environment: postPolicy.environment })
  @ApiOperation({
    summary: '<namespace>/<name>/versions creates a version (201); <namespace>/<name>/render renders one',
    description:
      'versions takes {"version": "x.y.z" (greater than every earlier one, else 409), "template": text with {{variable}} ' +
      '(\\{{ is a literal "{{"), "variables"?: [{"name", "required" (true), "default"?, "description"?}] (every placeholder ' +
      'declared and every declaration used; absent: every placeholder required), "description"?}. ' +
      'render takes {"label"? (default production; "latest" is the newest version) | "version"?, "variables": {"<name>": value}, ' +
      '"subject"?: the same subject always gets the same variant of an A/B label} and answers {"text", "version", "label", ' +
      '"variant", "defaulted": optional variables that took their default}; a missing required or an unknown variable is 400 naming it.',
  })
  @ApiParam({ name: '*', example: 'acme/support/answer/render' })
  @ApiBody({ schema: jsonSchemaOf(z.union([createPromptVersionBody, renderPromptBody])) })
  async act(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PromptVersionView | RenderedPromptView> {
    const target = promptTargetOf(path);
    const metadata = upstreamMetadata(request, principal);
    if (target.kind === 'render') {
      const render = renderPipe.transform(body);
      const response = await this.llm.renderPrompt(
        {
          namespace: target.namespace,
          name: target.name,
          label: render.label ?? '',
          version: render.version ?? '',
          variables: Object.fromEntries(Object.entries(render.variables).map(([name, value]) => [name, String(value)])),
          subject: render.subject ?? '',
        },
        { metadata },
      );
      return renderedPromptViewOf(response);
    }
    if (target.kind !== 'versions') throw notFound();
    const version = createVersionPipe.transform(body);
    const response = await this.llm.createPromptVersion(
      {
        namespace: target.namespace,
        name: target.name,
        version: version.version,
        template: version.template,
        variables: (version.variables ?? []).map((variable) => ({
          name: variable.name,
          required: variable.required,
          defaultValue: variable.default,
          description: variable.description,
        })),
        description: version.description,
      },
      { metadata },
    );
    void reply.status(201);
    return promptVersionViewOf(response.version);
  }

  @Put('*')
  @RequirePermission('configs:write', { environment: labelEnvironmentOf })
  @ApiOperation({
    summary: '<namespace>/<name>/labels/<label>: point a label at a version, or split it between versions with weights',
    description:
      'Takes {"version"} or {"variants": [{"version", "weight": 1..1000000}] (1 to 10)} and "expected_revision"? (0 = the ' +
      'label must not exist; 409 when it is at another revision). Labels are [a-z0-9-]+; "latest" cannot be set. Every move ' +
      'is an audited config.prompt_label_moved event with the variants it replaced.',
  })
  @ApiParam({ name: '*', example: 'acme/support/answer/labels/production' })
  @ApiBody({ schema: jsonSchemaOf(setPromptLabelBody) })
  async setLabel(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Body(new ZodBodyPipe(setPromptLabelBody)) body: SetPromptLabelBody,
  ): Promise<PromptLabelView> {
    const target = promptTargetOf(path);
    if (target.kind !== 'label') throw notFound();
    const response = await this.llm.setPromptLabel(
      {
        namespace: target.namespace,
        name: target.name,
        label: target.label,
        variants: body.variants ?? [{ version: body.version!, weight: 1 }],
        expectedRevision: body.expected_revision === undefined ? undefined : BigInt(body.expected_revision),
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    return promptLabelViewOf(response.label);
  }

  @Delete('*')
  @RequirePermission('configs:write', { environment: labelEnvironmentOf })
  @ApiOperation({
    summary: '<namespace>/<name>/labels/<label>: remove a label',
    description:
      'Needs what moving the label needs. Answers the label as it was; a render of it is 404 from then on. "latest" cannot ' +
      'be removed (400); an unknown prompt or label is 404 naming it; 409 when If-Match names another revision. The ' +
      'removal is an audited config.prompt_label_deleted event with the variants the label served.',
  })
  @ApiParam({ name: '*', example: 'acme/support/answer/labels/staging' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'the revision the label must be at, e.g. "3"' })
  async deleteLabel(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<PromptLabelView> {
    const target = promptTargetOf(path);
    if (target.kind !== 'label') throw notFound();
    const response = await this.llm.deletePromptLabel(
      { namespace: target.namespace, name: target.name, label: target.label, expectedRevision: optionalBigInt(versionFromIfMatch(ifMatch)) },
      { metadata: upstreamMetadata(request, principal) },
    );
    return promptLabelViewOf(response.label);
  }
}

function wildcardOf(request: FastifyRequest): string | undefined {
  return (request.params as Record<string, string | undefined> | undefined)?.['*'];
}

function notFound(): GatewayException {
  return new GatewayException(
    GatewayErrorCode.NotFound,
    'prompt routes are GET ?namespace=<ns>, GET <ns>/<name>, GET <ns>/<name>/versions/<x.y.z>, POST <ns>/<name>/versions, ' +
      'POST <ns>/<name>/render, PUT <ns>/<name>/labels/<label>, DELETE <ns>/<name>/labels/<label>',
  );
}
