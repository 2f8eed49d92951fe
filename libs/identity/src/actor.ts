/** The actor lives in libs/common (audit and every capability take it without depending on identity). */
export { Designation, Role, SYSTEM_ACTOR_NAME } from '@kura/common';
export type { Actor } from '@kura/common';
