import { ExecutorParamsInvalidError } from './errors.js';

/** A step's resolved parameters, as the engine hands them over (plain JSON). */
export type StepParams = Readonly<Record<string, unknown>>;

/** Reads step parameters for one executor; every refusal names the executor and the parameter. */
export class ParamReader {
  constructor(
    private readonly executor: string,
    private readonly params: StepParams,
  ) {}

  /** A non-empty string, or `undefined` when absent (`null` and `''` count as absent: unresolved references). */
  optionalString(name: string, maxLength = 2000): string | undefined {
    const value = this.params[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new ExecutorParamsInvalidError(this.executor, name, 'must be a string');
    if (value.trim() === '') throw new ExecutorParamsInvalidError(this.executor, name, 'must not be blank');
    if (value.length > maxLength) {
      throw new ExecutorParamsInvalidError(this.executor, name, `must be at most ${maxLength} characters`);
    }
    return value;
  }

  /** A non-empty string, else the fallback; with neither the step cannot run. */
  string(name: string, fallback?: string, maxLength?: number): string {
    const value = this.optionalString(name, maxLength) ?? fallback;
    if (value === undefined || value === '') {
      throw new ExecutorParamsInvalidError(this.executor, name, 'is required and resolved to nothing');
    }
    return value;
  }

  /** One of `allowed`, else the fallback. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const value = this.optionalString(name, 100) ?? fallback;
    if (value === undefined)
      throw new ExecutorParamsInvalidError(this.executor, name, 'is required and resolved to nothing');
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ExecutorParamsInvalidError(this.executor, name, `must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.params[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw new ExecutorParamsInvalidError(this.executor, name, 'must be true or false');
    return value;
  }
}
