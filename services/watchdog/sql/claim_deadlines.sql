-- Due pending deadlines, earliest first, locked by this instance (another
-- instance skips them: each fires once), with what the decision and the
-- words need (an incident's category and severity, a hazard's category,
-- grade and place, an alarm's kind). $1: how many at most.
-- (SELECT clock_timestamp()): the time read once, so the partial index on
-- the due time bounds the scan; a bare clock_timestamp() is volatile and
-- made PostgreSQL filter every pending row (bench/watchdog).
SELECT d.id, d.kind, d.subject_kind, d.subject_id::text, d.seq, d.district_id, d.school_id,
       (extract(epoch FROM d.due_at) * 1000000)::bigint,
       coalesce(p.doc::text, '{}'), coalesce(s.name_zh, ''), coalesce(s.name_en, ''),
       coalesce(i.category, h.category, ''), coalesce(i.severity, h.grade, ''),
       coalesce(a.kind, ''), (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
       coalesce(h.place, '')
FROM deadlines d
LEFT JOIN policies p ON p.district_id = d.district_id
LEFT JOIN schools s ON s.id = d.school_id
LEFT JOIN incidents i ON i.id = d.subject_id
LEFT JOIN alarms a ON a.message_id = d.subject_id
LEFT JOIN hazards h ON h.id = d.subject_id
WHERE d.status = 'pending' AND d.due_at <= (SELECT clock_timestamp())
ORDER BY d.due_at
LIMIT $1::int
FOR UPDATE OF d SKIP LOCKED
