-- 0007_periodic_reports.sql: periodic reports expected from the calendar
-- (domain.md rule 4): the monthly safety report, the risk report every two
-- months and the monthly hazard self-inspection. The watchdog schedules each
-- school's deadline for every period before anything arrives, so a missing
-- report is found from the calendar, not from the absence of a row someone
-- has to notice; the recorder meets it when the report comes, late or not.

-- A deadline scheduled from the calendar was created by no message.
ALTER TABLE deadlines ALTER COLUMN created_by DROP NOT NULL;
-- A periodic report's period (the first day of its first month); its
-- subject_id is the report's name-based id (lib/ay_report.h), the same for
-- the watchdog that schedules it and the recorder that meets it.
ALTER TABLE deadlines ADD COLUMN period date;
CREATE INDEX deadlines_period ON deadlines (school_id, period) WHERE period IS NOT NULL;

-- Which report a MonthlyReport message is (PeriodicReportKind name).
ALTER TABLE monthly_reports ADD COLUMN kind text NOT NULL
    DEFAULT 'PERIODIC_REPORT_KIND_MONTHLY_SAFETY';
DROP INDEX monthly_reports_school;
CREATE INDEX monthly_reports_school ON monthly_reports (school_id, kind, year, month);
