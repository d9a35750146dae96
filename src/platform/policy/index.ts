// The oslo.policy-compatible policy engine: parse, compile and enforce check strings.

export { compileCheck } from './compile.ts';
export { type OverrideError, PolicyEngine, PolicyNotAuthorized } from './engine.ts';
export { type CheckNode, formatCheck, PolicyParseError, parseCheckString } from './parser.ts';
export type {
  CompiledCheck,
  Credentials,
  EffectiveRule,
  EvalContext,
  PolicyOperation,
  PolicyRule,
  PolicyTarget,
} from './types.ts';
