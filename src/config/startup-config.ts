import { ConfigInvalidError, RecoveryConfigInvalidError } from '../errors.js';
import { type Config, type LoadConfigOptions, loadConfig } from './env.js';
import { loadRecoveryConfig, type RecoveryConfig } from './recovery-config.js';

export interface StartupConfig {
  readonly config: Config;
  readonly recovery: RecoveryConfig;
}

/**
 * The environment and the `RECOVERY_CONFIG` file, checked in one pass so a person fixing the set-up sees every
 * problem at once: a file problem alone keeps its own error (naming the file); together with environment problems
 * they are one list, the file's lines prefixed with its path.
 */
export async function loadStartupConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): Promise<StartupConfig> {
  let config: Config | undefined;
  let envProblems: readonly string[] = [];
  try {
    config = loadConfig({ ...env }, options);
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err;
    envProblems = err.problems;
  }
  const path = config ? config.recoveryConfigPath : env.RECOVERY_CONFIG || undefined;
  const recovery = await loadRecoveryConfig(path, env).catch((err: unknown) => {
    if (err instanceof RecoveryConfigInvalidError && config === undefined) return err;
    throw err;
  });
  if (recovery instanceof RecoveryConfigInvalidError) {
    throw new ConfigInvalidError([
      ...envProblems,
      ...recovery.problems.map((p) => `RECOVERY_CONFIG ${recovery.path}: ${p}`),
    ]);
  }
  if (config === undefined) throw new ConfigInvalidError(envProblems);
  return { config, recovery };
}
