import { describe, expect, it } from '@jest/globals';
import { ConfigException, ConfigExceptionCode } from '../../configs/exceptions/config.exception.js';
import { declareVariables, parseTemplate, placeholdersOf, renderTemplate, type PromptVariableDeclaration } from './prompt-template.js';
import { compareSemanticVersions, parseSemanticVersion } from './semantic-version.js';

function failure(run: () => unknown): ConfigException {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigException) return error;
    throw error;
  }
  throw new Error('expected a ConfigException');
}

const SEED_TEMPLATE =
  'You are a {{role}} assistant for {{company_name}}.\n\nContext: {{context}}\n\nCustomer question: {{question}}\n\n' +
  'Please provide a {{response_style}} response.';

describe(parseTemplate.name, () => {
  it('finds the placeholders of the seed 001 §6.2 template, each once, in order', () => {
    expect(placeholdersOf(parseTemplate(SEED_TEMPLATE))).toEqual(['role', 'company_name', 'context', 'question', 'response_style']);
  });

  it('allows spaces inside the braces and reads \\{{ as a literal {{', () => {
    const parts = parseTemplate('Use \\{{name}} literally; {{ name }} is {{name}}.');
    expect(renderTemplate(parts, [{ name: 'name', required: true, description: '' }], { name: 'Ada' }).text).toBe(
      'Use {{name}} literally; Ada is Ada.',
    );
  });

  it('refuses helpers, blocks and unclosed braces, saying where', () => {
    const block = failure(() => parseTemplate('Hi\n{{#if vip}}VIP{{/if}}'));
    expect(block.code).toBe(ConfigExceptionCode.InvalidValue);
    expect(block.field).toBe('template');
    expect(block.message).toContain('"{{#if vip}}" at line 2, column 1');
    expect(failure(() => parseTemplate('Hello {{name')).message).toContain('unclosed "{{" at line 1, column 7');
    expect(failure(() => parseTemplate('')).message).toBe('template must not be empty');
  });
});

describe(declareVariables.name, () => {
  const parts = parseTemplate('{{greeting}}, {{name}}!');

  it('declares every placeholder required when nothing is declared', () => {
    expect(declareVariables(parts, [])).toEqual([
      { name: 'greeting', required: true, description: '' },
      { name: 'name', required: true, description: '' },
    ]);
  });

  it('refuses an undeclared placeholder, an unused declaration, a duplicate and a required default', () => {
    const name: PromptVariableDeclaration = { name: 'name', required: true, description: '' };
    expect(failure(() => declareVariables(parts, [name])).message).toBe('template uses {{greeting}}, which is not declared in variables');
    const unused = failure(() => declareVariables(parts, [name, { name: 'greeting', required: true, description: '' }, { name: 'tone', required: false, description: '' }]));
    expect(unused.message).toContain('tone is declared but the template never uses');
    expect(unused.field).toBe('variables[2].name');
    expect(failure(() => declareVariables(parts, [name, name])).message).toBe('variable name is declared twice');
    expect(failure(() => declareVariables(parts, [{ ...name, defaultValue: 'x' }])).field).toBe('variables[0].default_value');
  });
});

describe(renderTemplate.name, () => {
  const parts = parseTemplate('{{greeting}}, {{name}}!{{signature}}');
  const variables: PromptVariableDeclaration[] = [
    { name: 'greeting', required: false, defaultValue: 'Hello', description: '' },
    { name: 'name', required: true, description: '' },
    { name: 'signature', required: false, description: '' },
  ];

  it('fills optional variables with their default, or nothing, and says which were defaulted', () => {
    expect(renderTemplate(parts, variables, { name: 'Ada' })).toEqual({ text: 'Hello, Ada!', defaulted: ['greeting', 'signature'] });
    expect(renderTemplate(parts, variables, { name: 'Ada', greeting: 'Hi', signature: ' -- Bot' }).text).toBe('Hi, Ada! -- Bot');
  });

  it('never substitutes inside a value: braces in a variable stay as given', () => {
    expect(renderTemplate(parts, variables, { name: '{{greeting}}' }).text).toBe('Hello, {{greeting}}!');
  });

  it('refuses a missing required variable and an unknown one, naming it', () => {
    const missing = failure(() => renderTemplate(parts, variables, {}));
    expect(missing.message).toBe('variable name is required');
    expect(missing.field).toBe('variables.name');
    const unknown = failure(() => renderTemplate(parts, variables, { name: 'Ada', nmae: 'x' }));
    expect(unknown.message).toBe('unknown variable(s) nmae: this version declares greeting, name, signature');
    expect(unknown.field).toBe('variables.nmae');
  });
});

describe('semantic versions', () => {
  it('orders by major, minor, then patch numerically', () => {
    expect(compareSemanticVersions(parseSemanticVersion('1.10.0'), parseSemanticVersion('1.9.9'))).toBeGreaterThan(0);
    expect(compareSemanticVersions(parseSemanticVersion('2.0.0'), parseSemanticVersion('2.0.0'))).toBe(0);
  });

  it('refuses what is not MAJOR.MINOR.PATCH', () => {
    for (const text of ['1.2', 'v1.2.3', '01.2.3', '1.2.3-beta', '']) {
      expect(failure(() => parseSemanticVersion(text)).field).toBe('version');
    }
  });
});
