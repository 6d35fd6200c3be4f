-- Silent devices flagged: offline since their gap ran out, in the absence
-- (episode) whose escalations were just created. A device disabled in the
-- registry is no longer supervised (no episode, no timer). Returns how
-- late each was flagged (the benchmark's figure).
-- $1: rows (jsonb array: device_id, episode_id or null).
UPDATE device_status ds
SET offline_since = CASE WHEN r.episode_id IS NULL THEN NULL ELSE ds.silent_after END,
    silent_after = CASE WHEN r.episode_id IS NULL THEN NULL ELSE ds.silent_after END,
    episode_id = r.episode_id
FROM jsonb_to_recordset($1::jsonb) AS r(device_id text, episode_id uuid)
WHERE ds.device_id = r.device_id AND ds.offline_since IS NULL
  -- by primary key: the planner guesses 100 rows for jsonb_to_recordset
  -- and would rather scan every device (bench/supervision)
  AND ds.device_id = ANY (ARRAY(SELECT jsonb_array_elements($1::jsonb) ->> 'device_id'))
RETURNING ds.device_id,
          coalesce((extract(epoch FROM clock_timestamp() - ds.silent_after) * 1000000)::bigint, 0)
