// /1/openapi.json: the document generated from every route's schemas (api/openapi.ts), public.
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../route.ts';

export function metaRoutes(document: () => Record<string, unknown>): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApi',
      summary: 'This document (OpenAPI 3.1)',
      description: 'Answered as the document itself, not in the envelope.',
      tag: 'Meta',
      scopes: 'public',
      response: z.looseObject({ openapi: z.string() }),
      raw: true,
      handler: async () => document() as { openapi: string },
    }),
  ];
}
