import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { ZodBodyPipe } from './zod-body.pipe.js';

const pipe = new ZodBodyPipe(z.strictObject({ name: z.string().min(1), count: z.number().int().optional() }));

function rejection(value: unknown): GatewayException {
  try {
    pipe.transform(value);
  } catch (error) {
    if (error instanceof GatewayException) return error;
    throw error;
  }
  throw new Error('expected the body to be rejected');
}

describe(ZodBodyPipe.name, () => {
  it('passes a valid body through', () => {
    expect(pipe.transform({ name: 'a', count: 2 })).toEqual({ name: 'a', count: 2 });
  });

  it('names unknown fields', () => {
    const error = rejection({ name: 'a', colour: 'red', size: 1 });
    expect(error.code).toBe(GatewayErrorCode.ValidationError);
    expect(error.message).toBe('unknown field(s): colour, size');
  });

  it('names the field that is wrong', () => {
    expect(rejection({ name: 'a', count: 1.5 }).message).toMatch(/^count: /);
    expect(rejection({}).message).toMatch(/^name: /);
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [undefined, null, 'text', 42, [1, 2]]) {
      expect(rejection(body).message).toBe('request body must be a JSON object');
    }
  });
});
