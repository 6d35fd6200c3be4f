-- The reporting policy of the batch's districts. $1: district ids (text[]).
SELECT id, verbal_notice_min, written_report_min, monthly_report_day
FROM districts
WHERE id = ANY ($1::text[])
