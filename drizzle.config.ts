// drizzle-kit reads this (on Node) for `npm run db:generate`; the app never imports it.
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/store/schema.ts',
  out: './src/store/migrations',
})
