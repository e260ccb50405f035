/** The demo MCP server's projects and notes, in SQL. */
import type { DemoNote, DemoProject, DemoStore } from '../demo.ts';
import type { SqlDriver } from './driver.ts';

export function demoStore(db: SqlDriver): DemoStore {
  return {
    listProjects: () => db.all<DemoProject>('SELECT id, name, created_at AS "createdAt" FROM demo_projects ORDER BY created_at, id'),
    async putProject(p) {
      await db.run(
        'INSERT INTO demo_projects (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = excluded.name',
        [p.id, p.name, p.createdAt],
      );
    },
    listNotes: (projectId) =>
      db.all<DemoNote>(
        'SELECT id, project_id AS "projectId", title, body, updated_at AS "updatedAt" FROM demo_notes WHERE project_id = $1 ORDER BY updated_at DESC, id',
        [projectId],
      ),
    getNote: (id) =>
      db.get<DemoNote>('SELECT id, project_id AS "projectId", title, body, updated_at AS "updatedAt" FROM demo_notes WHERE id = $1', [id]),
    async putNote(n) {
      await db.run(
        `INSERT INTO demo_notes (id, project_id, title, body, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, updated_at = excluded.updated_at`,
        [n.id, n.projectId, n.title, n.body, n.updatedAt],
      );
    },
    async deleteNote(id) {
      return (await db.run('DELETE FROM demo_notes WHERE id = $1', [id])).changes === 1;
    },
  };
}
