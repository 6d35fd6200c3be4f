-- Incidents, identified by their first notice's message id; noticed_at is
-- when the backbone received the notice. $1: message ids (uuid[]).
INSERT INTO incidents (id, district_id, school_id, category, severity, occurred_at,
                       discovered_at, noticed_at, place, latitude, longitude, dead, injured,
                       missing, summary, measures_taken, reporter_name, reporter_role,
                       reporter_phone, suspected_crime, people_involved)
SELECT m.message_id, m.district_id, m.school_id, b->>'category', b->>'severity',
       (b->>'occurredAt')::timestamptz, (b->>'discoveredAt')::timestamptz, m.received_at,
       b->>'place',
       CASE WHEN b ? 'geo' THEN coalesce((b#>>'{geo,latitude}')::float8, 0) END,
       CASE WHEN b ? 'geo' THEN coalesce((b#>>'{geo,longitude}')::float8, 0) END,
       coalesce((b#>>'{casualties,dead}')::int, 0), coalesce((b#>>'{casualties,injured}')::int, 0),
       coalesce((b#>>'{casualties,missing}')::int, 0), b->>'summary',
       coalesce(b->>'measuresTaken', ''), coalesce(b#>>'{reporter,name}', ''),
       coalesce(b#>>'{reporter,role}', ''), coalesce(b#>>'{reporter,phone}', ''),
       coalesce((b->>'suspectedCrime')::boolean, false), coalesce(b->>'peopleInvolved', '')
FROM messages m, LATERAL (SELECT m.body) AS x(b)
WHERE m.message_id = ANY ($1::uuid[])
