import type { NextFunction, Request, Response } from 'express';
import { purposeContext } from '@kura/mynumber';

/**
 * Makes the request's `X-Purpose` header (a purpose code: HTTP header values are not UTF-8,
 * so never a Japanese name) available to the purpose gate of the documents service.
 */
export function purposeMiddleware(req: Request, _res: Response, next: NextFunction): void {
  purposeContext.run(req.header('x-purpose'), () => next());
}
