/** Data of the built-in demo MCP server (demo/server.ts). */

export interface DemoProject {
  id: string;
  name: string;
  createdAt: number;
}

export interface DemoNote {
  id: string;
  projectId: string;
  title: string;
  body: string;
  updatedAt: number;
}

/** Data of the built-in demo MCP server (projects and notes). */
export interface DemoStore {
  listProjects(): Promise<DemoProject[]>;
  putProject(project: DemoProject): Promise<void>;
  listNotes(projectId: string): Promise<DemoNote[]>;
  getNote(id: string): Promise<DemoNote | undefined>;
  putNote(note: DemoNote): Promise<void>;
  deleteNote(id: string): Promise<boolean>;
}
