-- Devices back after an absence: the absence's escalations are resolved,
-- what was not sent of them is cancelled, and the audiences are told the
-- device is back (a RESOLVED notification with its own words), with an
-- audit row each. $1: rows (jsonb array: episode_id, summary_zh, summary_en).
WITH back AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(episode_id uuid, summary_zh text,
                                                     summary_en text)
), ended AS (
    UPDATE escalations e SET status = 'resolved', resolved_at = clock_timestamp(),
                             next_action_at = NULL
    FROM back
    WHERE e.subject_id = back.episode_id AND e.reason = 'ESCALATION_REASON_DEVICE_OFFLINE'
      AND e.status IN ('open', 'acknowledged')
    RETURNING e.id, e.district_id, e.school_id, e.subject_id, e.audience, e.level, e.chain,
              back.summary_zh, back.summary_en
), told AS (
    INSERT INTO notifications (id, escalation_id, district_id, audience, level, target, kind,
                               summary_zh, summary_en)
    SELECT gen_random_uuid(), e.id, e.district_id, e.audience, e.level,
           coalesce(e.chain -> (e.level - 1) ->> 'target', ''), 'NOTIFICATION_KIND_RESOLVED',
           e.summary_zh, e.summary_en
    FROM ended e
    RETURNING escalation_id
), audited AS (
    INSERT INTO audit_events (district_id, school_id, subject_id, escalation_id, actor, action,
                              detail)
    SELECT district_id, school_id, subject_id, id, 'recorder', 'escalation.resolved',
           '{"why": "device back"}'::jsonb
    FROM ended
    RETURNING 1
)
UPDATE notifications SET state = 'cancelled', closed_at = clock_timestamp()
WHERE escalation_id IN (SELECT id FROM ended) AND state = 'pending'
  AND kind <> 'NOTIFICATION_KIND_RESOLVED'
