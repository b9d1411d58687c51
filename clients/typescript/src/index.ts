// The Tessera API client: `paths` is generated (src/schema.d.ts, `make openapi`), the
// calls are openapi-fetch's, so every path, parameter, body and answer is type-checked.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type { components, paths };
export type Problem = components["schemas"]["Problem"];

export function tesseraClient(baseUrl: string, token?: string) {
  return createClient<paths>({
    baseUrl,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}
