/*
 * compliance_text.h - the compliance table of `ayctl compliance` as people
 * read it: an aligned table for a terminal, or CSV for a spreadsheet.
 *
 * One row per school; the counts are the columns of the SQL function
 * ay_compliance() (db/migrations/0008_compliance.sql, which defines each),
 * in its order. Words are Simplified Chinese by default, English with
 * AY_LANG_EN.
 *
 * CSV is what a spreadsheet program used in China (WPS, Excel) opens as
 * UTF-8 without asking: a byte order mark, CRLF line ends, RFC 4180 fields
 * (quoted when they hold a comma or a double quote, which is doubled). The
 * terminal table aligns by display width (a Chinese character takes two
 * columns). In both, names from the registry have their control characters
 * replaced by spaces (one school is one line); in CSV a name that a
 * spreadsheet would take for a formula (=, +, -, @ first) gets a leading
 * apostrophe.
 * Owns: nothing. Threads: pure; thread-safe.
 */
#ifndef AYCTL_COMPLIANCE_TEXT_H
#define AYCTL_COMPLIANCE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "ay_labels.h"

/* The counts of a row, in the order of ay_compliance()'s columns after
 * school_id, name_zh, name_en. Each report kind has four: on time, late,
 * the largest lateness in minutes, missing. */
enum ayctl_compliance_count {
    AYCTL_C_VERBAL,                           /* DEADLINE_KIND_VERBAL_NOTICE (4 counts) */
    AYCTL_C_WRITTEN = AYCTL_C_VERBAL + 4,     /* DEADLINE_KIND_WRITTEN_REPORT */
    AYCTL_C_FINAL = AYCTL_C_WRITTEN + 4,      /* DEADLINE_KIND_FINAL_REPORT */
    AYCTL_C_MONTHLY = AYCTL_C_FINAL + 4,      /* DEADLINE_KIND_MONTHLY_REPORT */
    AYCTL_C_RISK = AYCTL_C_MONTHLY + 4,       /* DEADLINE_KIND_RISK_REPORT */
    AYCTL_C_SELF_CHECK = AYCTL_C_RISK + 4,    /* DEADLINE_KIND_HAZARD_SELF_CHECK */
    AYCTL_C_HAZARDS = AYCTL_C_SELF_CHECK + 4, /* open, overdue, closed, major open */
    AYCTL_C_ALARMS = AYCTL_C_HAZARDS + 4,     /* real, test, false */
    AYCTL_C_ESCALATIONS = AYCTL_C_ALARMS + 3, /* acknowledged in time, late, never */
    AYCTL_COMPLIANCE_NCOUNTS = AYCTL_C_ESCALATIONS + 3,
};

/* Offsets inside a report kind's four counts. */
enum {
    AYCTL_C_ON_TIME = 0,
    AYCTL_C_LATE = 1,
    AYCTL_C_LATE_MAX_MIN = 2,
    AYCTL_C_MISSING = 3,
};

/* One school's row; the strings are borrowed. */
struct ayctl_compliance_row {
    const char *school_id;
    const char *name_zh;
    const char *name_en;
    long long counts[AYCTL_COMPLIANCE_NCOUNTS];
};

/* What the table is of: shown above the terminal table (not in CSV). */
struct ayctl_compliance_title {
    const char *district_id;
    const char *name_zh;
    const char *name_en;
    int year;
    int month;
    const char *timezone;
};

/* Parses a month as people type it, "2026-11" (exactly YYYY-MM, year
 * 1970-9999); false when it is not one. */
bool ayctl_month_parse(const char *s, int *year, int *month);

/* The number of terminal columns s takes: 2 for East Asian wide and
 * fullwidth characters, 0 for control characters, 1 for anything else
 * (a byte that is not UTF-8 included). */
size_t ayctl_text_width(const char *s);

/* The CSV document: byte order mark, header of the language, one record
 * per row, each ended by CRLF. New string; NULL when out of memory. */
char *ayctl_compliance_csv(const struct ayctl_compliance_row *rows, size_t n, enum ay_lang lang);

/*
 * The table for a terminal: a title line, a header, one line per school
 * (a report kind as "on time/late(max minutes)/missing", hazards, alarms
 * and escalations as their counts joined by '/'), and a legend saying what
 * the numbers are; every line ends with '\n'. New string; NULL when out of
 * memory.
 */
char *ayctl_compliance_table(const struct ayctl_compliance_row *rows, size_t n,
                             const struct ayctl_compliance_title *t, enum ay_lang lang);

#endif
