import type { Request } from 'express';

interface RouteLayer {
  route?: { _methods(includeAll?: boolean): string[]; path?: unknown };
  match(path: string): boolean;
}

/**
 * The methods Express routes serve at this request's path (RFC 9110 §15.5.6 `Allow`).
 * Empty when no route matches the path at all (a real 404). Catch-all routes (`*`) are
 * ignored: they serve every path and would turn every 404 into a 405.
 */
export function allowedMethods(req: Request): string[] {
  const stack = (req.app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack ?? [];
  const path = req.originalUrl.split('?')[0];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route) continue;
    const served = layer.route._methods(true);
    if (served.includes('*')) continue;
    if (layer.match(path)) for (const m of served) methods.add(m);
  }
  return [...methods].sort();
}
