import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'kura:public';

/** Marks a route as reachable without a session. Every other route must declare a policy. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
