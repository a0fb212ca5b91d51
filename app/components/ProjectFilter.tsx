import { Form } from "@remix-run/react";

/** A GET form narrowing a page to one project (`?project=`); empty means all. */
export function ProjectFilter({ id, projects, projectId }: { id: string; projects: { id: string; name: string }[]; projectId: string | null }) {
  return (
    <Form method="get" className="actions">
      <label htmlFor={id}>Project</label>
      <select id={id} name="project" defaultValue={projectId ?? ""}>
        <option value="">All projects</option>
        {projects.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
      <button type="submit" className="button secondary">
        Show
      </button>
    </Form>
  );
}
