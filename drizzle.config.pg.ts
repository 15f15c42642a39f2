// drizzle-kit reads this (on Node) for `npm run db:generate`: the PostgreSQL twin of drizzle.config.ts.
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema-pg.ts',
  out: './src/store/migrations-pg',
})
