import { Link } from "@remix-run/react";

export interface ExportTarget {
  studyId: string;
  cohortId: string;
  label: string;
}

/** A study's cohorts with their participant counts, each with Export for those who may. */
export function CohortTable({ study, base, onExport }: {
  study: { id: string; name: string; cohorts: { id: string; name: string; participants: number }[] };
  base: string;
  /** Absent when the reader may not export. */
  onExport?: (target: ExportTarget) => void;
}) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Cohorts of study {study.name}</caption>
        <thead>
          <tr>
            <th scope="col">Cohort</th>
            <th scope="col">Participants</th>
            <th scope="col"><span className="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {study.cohorts.map((cohort) => (
            <tr key={cohort.id}>
              <td>
                <Link to={`${base}/${study.id}/cohorts/${cohort.id}`}>{cohort.name}</Link>
              </td>
              <td>{cohort.participants.toLocaleString()}</td>
              <td>
                {onExport && (
                  <button
                    type="button"
                    className="button secondary"
                    onClick={() => onExport({ studyId: study.id, cohortId: cohort.id, label: `Study ${study.name}, ${cohort.name}` })}
                  >
                    Export
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
