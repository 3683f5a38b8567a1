import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';

/** Validates a request body with a strict zod schema; the message names each bad or unknown field. */
@Injectable()
export class ZodBodyPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new GatewayException(GatewayErrorCode.ValidationError, 'request body must be a JSON object');
    }
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const problems = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
      const path = issue.path.length ? issue.path.join('.') : 'body';
      return `${path}: ${issue.message}`;
    });
    throw new GatewayException(GatewayErrorCode.ValidationError, problems.join('; '));
  }
}
