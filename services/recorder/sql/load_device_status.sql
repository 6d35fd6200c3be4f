-- The supervision state of the batch's devices before it, locked until the
-- batch commits: the watchdog (which flags silent devices with SKIP LOCKED)
-- then never flags a device whose status message is being recorded, and
-- this batch decides on what the watchdog last wrote. Locked in id order,
-- as every recorder worker does. $1: device ids (text[]).
SELECT device_id, offline_since IS NOT NULL, coalesce(episode_id::text, ''), tamper, fault,
       low_battery
FROM device_status
WHERE device_id = ANY ($1::text[])
ORDER BY device_id
FOR UPDATE
