-- The schools as the police feed shows them (registry.h).
SELECT id, district_id, name_zh, name_en, address, phone
FROM schools
