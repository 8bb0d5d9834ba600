import { ConfigError, loadEnv, type Env } from '../env';
import { createLogger, type Logger } from '../lib/logger';

/** Shared shell for the npm-run commands: config errors print once and exit 1. */
export async function runCli(name: string, body: (env: Env, log: Logger) => Promise<void>): Promise<void> {
  let env: Env;
  try {
    env = loadEnv();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`threeflow ${name}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const log = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL);
  try {
    await body(env, log);
    process.exit(process.exitCode ?? 0);
  } catch (e) {
    process.stderr.write(`threeflow ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
