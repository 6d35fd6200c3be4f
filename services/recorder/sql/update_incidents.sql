-- The newest report of each incident decides its severity and closure.
-- $1: report message ids just stored (uuid[]).
UPDATE incidents i SET
    severity = CASE WHEN r.severity <> 'SEVERITY_UNSPECIFIED' THEN r.severity
                    ELSE i.severity END,
    status = CASE WHEN r.kind = 'REPORT_KIND_FINAL' THEN 'closed' ELSE i.status END,
    closed_at = CASE WHEN r.kind = 'REPORT_KIND_FINAL'
                     THEN coalesce(r.closed_at, r.submitted_at) ELSE i.closed_at END
FROM (SELECT DISTINCT ON (incident_id) *
      FROM incident_reports
      WHERE message_id = ANY ($1::uuid[])
      ORDER BY incident_id, submitted_at DESC) r
WHERE i.id = r.incident_id
