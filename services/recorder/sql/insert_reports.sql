-- Written reports (first, follow-up, final) of incidents. $1: message ids (uuid[]).
INSERT INTO incident_reports (message_id, incident_id, kind, submitted_at, body, severity,
                              dead, injured, missing, reporter_name, signed_by_name, cause,
                              handling, lessons, rectification, closed_at)
SELECT m.message_id, (b->>'incidentId')::uuid, b->>'kind', m.received_at, b->>'body',
       coalesce(b->>'severity', 'SEVERITY_UNSPECIFIED'),
       coalesce((b#>>'{casualties,dead}')::int, 0), coalesce((b#>>'{casualties,injured}')::int, 0),
       coalesce((b#>>'{casualties,missing}')::int, 0), coalesce(b#>>'{reporter,name}', ''),
       coalesce(b#>>'{signedBy,name}', ''), coalesce(b->>'cause', ''),
       coalesce(b->>'handling', ''), coalesce(b->>'lessons', ''),
       coalesce(b->>'rectification', ''), (b->>'closedAt')::timestamptz
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
