// Public entry point: what a user's systems.ts imports from 'sel4cp-synth'.
export * from './dsl/index.js';
