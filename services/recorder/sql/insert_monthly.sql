-- Periodic reports (domain.md rule 4: the monthly safety report, the risk
-- report, the hazard self-inspection); every version is kept.
-- $1: message ids (uuid[]).
INSERT INTO monthly_reports (message_id, district_id, school_id, year, month, submitted_at,
                             inspections, hazards_found, hazards_rectified, hazards_open,
                             incidents, drills, trainings, police_visits, remarks,
                             signed_by_name, signed_at, kind)
SELECT m.message_id, m.district_id, m.school_id, (b->>'year')::int, (b->>'month')::int,
       m.received_at, coalesce((b->>'inspections')::int, 0),
       coalesce((b->>'hazardsFound')::int, 0), coalesce((b->>'hazardsRectified')::int, 0),
       coalesce((b->>'hazardsOpen')::int, 0), coalesce((b->>'incidents')::int, 0),
       coalesce((b->>'drills')::int, 0), coalesce((b->>'trainings')::int, 0),
       coalesce((b->>'policeVisits')::int, 0), coalesce(b->>'remarks', ''),
       coalesce(b#>>'{signedBy,name}', ''), (b->>'signedAt')::timestamptz,
       CASE WHEN coalesce(b->>'kind', 'PERIODIC_REPORT_KIND_UNSPECIFIED')
                 = 'PERIODIC_REPORT_KIND_UNSPECIFIED'
            THEN 'PERIODIC_REPORT_KIND_MONTHLY_SAFETY' ELSE b->>'kind' END
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
