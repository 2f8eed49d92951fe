export * from './actor';
export * from './current-actor.decorator';
