import { ConfigException, ConfigExceptionCode } from '../../configs/exceptions/config.exception.js';

/** A template is text and `{{variable}}` placeholders, in order. */
export type TemplatePart = { text: string } | { variable: string };

export interface PromptVariableDeclaration {
  name: string;
  required: boolean;
  /** An optional variable's value when none is given; absent renders as "". */
  defaultValue?: string;
  description: string;
}

export const MAX_TEMPLATE_CHARS = 100_000;
export const MAX_VARIABLES = 100;
export const MAX_VARIABLE_VALUE_CHARS = 100_000;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ESCAPED_OPEN = '\\{{';

/**
 * Parses Handlebars-style placeholders: `{{name}}` (spaces inside allowed) stands for a variable, `\{{` is a literal
 * `{{`. Helpers, blocks and partials (`{{#if}}`, `{{> x}}`) are refused: a prompt is text with holes, not a program.
 */
export function parseTemplate(template: string): TemplatePart[] {
  if (template.length === 0) throw invalid('template must not be empty', 'template');
  if (template.length > MAX_TEMPLATE_CHARS) throw invalid(`template is ${template.length} characters; the limit is ${MAX_TEMPLATE_CHARS}`, 'template');
  const parts: TemplatePart[] = [];
  let text = '';
  let index = 0;
  while (index < template.length) {
    if (template.startsWith(ESCAPED_OPEN, index)) {
      text += '{{';
      index += ESCAPED_OPEN.length;
      continue;
    }
    if (!template.startsWith('{{', index)) {
      text += template[index];
      index += 1;
      continue;
    }
    const close = template.indexOf('}}', index + 2);
    if (close < 0) throw invalid(`template has an unclosed "{{" at ${positionOf(template, index)}; write \\{{ for a literal "{{"`, 'template');
    const name = template.slice(index + 2, close).trim();
    if (!VARIABLE_NAME.test(name)) {
      throw invalid(
        `template placeholder "${template.slice(index, close + 2)}" at ${positionOf(template, index)} is not {{variable}} ` +
          '(a name of letters, digits and _); write \\{{ for a literal "{{"',
        'template',
      );
    }
    if (text) parts.push({ text });
    text = '';
    parts.push({ variable: name });
    index = close + 2;
  }
  if (text) parts.push({ text });
  return parts;
}

/** The placeholders' names, each once, in order of first use. */
export function placeholdersOf(parts: TemplatePart[]): string[] {
  return [...new Set(parts.flatMap((part) => ('variable' in part ? [part.variable] : [])))];
}

/**
 * Checks declarations against the template: every placeholder declared, every declaration used, names unique, and
 * no required variable with a default. No declarations at all declares every placeholder required.
 */
export function declareVariables(parts: TemplatePart[], declared: PromptVariableDeclaration[]): PromptVariableDeclaration[] {
  const used = placeholdersOf(parts);
  if (declared.length === 0) return used.map((name) => ({ name, required: true, description: '' }));
  if (declared.length > MAX_VARIABLES) throw invalid(`at most ${MAX_VARIABLES} variables`, 'variables');
  const seen = new Set<string>();
  for (const [index, variable] of declared.entries()) {
    const field = `variables[${index}]`;
    if (!VARIABLE_NAME.test(variable.name)) throw invalid(`${field}.name ${JSON.stringify(variable.name)} must match [A-Za-z_][A-Za-z0-9_]{0,63}`, `${field}.name`);
    if (seen.has(variable.name)) throw invalid(`variable ${variable.name} is declared twice`, `${field}.name`);
    seen.add(variable.name);
    if (!used.includes(variable.name)) throw invalid(`variable ${variable.name} is declared but the template never uses {{${variable.name}}}`, `${field}.name`);
    if (variable.required && variable.defaultValue !== undefined) {
      throw invalid(`variable ${variable.name} is required, so it cannot have a default`, `${field}.default_value`);
    }
  }
  const undeclared = used.find((name) => !seen.has(name));
  if (undeclared !== undefined) throw invalid(`template uses {{${undeclared}}}, which is not declared in variables`, 'variables');
  return declared;
}

export interface RenderResult {
  text: string;
  /** Optional variables that were not given. */
  defaulted: string[];
}

/**
 * Substitutes `values` into the template. A missing required variable and a variable the template does not declare
 * are refused: a misspelt name would otherwise render a prompt with an empty hole, silently.
 */
export function renderTemplate(parts: TemplatePart[], variables: PromptVariableDeclaration[], values: Record<string, string>): RenderResult {
  const declared = new Map(variables.map((variable) => [variable.name, variable]));
  const unknown = Object.keys(values).filter((name) => !declared.has(name));
  if (unknown.length > 0) {
    throw invalid(
      `unknown variable(s) ${unknown.join(', ')}: this version declares ${variables.map((variable) => variable.name).join(', ') || 'none'}`,
      `variables.${unknown[0]}`,
    );
  }
  const resolved = new Map<string, string>();
  const defaulted: string[] = [];
  for (const variable of variables) {
    const given = values[variable.name];
    if (given !== undefined) {
      if (given.length > MAX_VARIABLE_VALUE_CHARS) {
        throw invalid(`variable ${variable.name} is ${given.length} characters; the limit is ${MAX_VARIABLE_VALUE_CHARS}`, `variables.${variable.name}`);
      }
      resolved.set(variable.name, given);
    } else if (variable.required) {
      throw invalid(`variable ${variable.name} is required`, `variables.${variable.name}`);
    } else {
      resolved.set(variable.name, variable.defaultValue ?? '');
      defaulted.push(variable.name);
    }
  }
  return { text: parts.map((part) => ('text' in part ? part.text : resolved.get(part.variable)!)).join(''), defaulted };
}

function positionOf(template: string, index: number): string {
  const before = template.slice(0, index);
  const line = before.split('\n').length;
  return `line ${line}, column ${index - before.lastIndexOf('\n')}`;
}

function invalid(message: string, field: string): ConfigException {
  return new ConfigException(ConfigExceptionCode.InvalidValue, message, field);
}
