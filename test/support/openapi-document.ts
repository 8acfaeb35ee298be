// The parts of an OpenAPI 3.1 document (the daemon's GET /v1/openapi.json) that the tests read,
// typed so that a test reads it without `any`. Only a type: the tests check the values, and
// test/openapi-schema.test.ts checks the whole document against the official OpenAPI 3.1 schema.

/** A Schema Object (JSON Schema 2020-12), as far as the tests look into one. */
export type OpenApiSchema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  required?: string[];
  oneOf?: OpenApiSchema[];
  additionalProperties?: boolean | OpenApiSchema;
};

export type OpenApiParameter = { name: string; in: string; required?: boolean; schema?: OpenApiSchema };

type OpenApiContent = Record<string, { schema?: OpenApiSchema }>;

export type OpenApiOperation = {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  "x-required-role"?: string;
  parameters: OpenApiParameter[];
  requestBody?: { content: OpenApiContent };
  responses: Record<string, { content?: OpenApiContent; "x-websocket-message"?: OpenApiSchema }>;
};

export type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, OpenApiSchema>; securitySchemes: Record<string, Record<string, unknown>> };
};
