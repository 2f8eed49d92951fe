export * from './public.decorator';
export * from './policy.decorator';
