/**
 * The Media Library page at /console: sign in with the API key and secret, browse the stored
 * pictures, see one picture's details and faces, build signed delivery URLs, and refresh,
 * invalidate or delete pictures. A thin layer over ManageService (src/manage/types.ts).
 *
 * Usage in the composition root: `app.use(createConsole({ manage, apiKey, apiSecret, cloudName }))`,
 * before the delivery catch-all route.
 */
import { createConsoleRoutes, type ConsoleDeps } from './routes.ts'

export type { ConsoleDeps }

export function createConsole(deps: ConsoleDeps) {
  return createConsoleRoutes(deps)
}
