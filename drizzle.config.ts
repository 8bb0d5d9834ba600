import { defineConfig } from 'drizzle-kit';

// Used only by `npm run db:generate` (schema diff → SQL). Generation needs no database.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
  strict: true,
});
