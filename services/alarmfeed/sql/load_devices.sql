-- The devices: where each button is, in words and as a position, and in
-- which shop or home (registry.h). A position is used only when both
-- coordinates are set.
SELECT id, school_id, kind, enabled, location, place_name,
       latitude IS NOT NULL AND longitude IS NOT NULL AS has_geo,
       coalesce(latitude, 0), coalesce(longitude, 0)
FROM devices
