/*
 * compliance_text.c - the compliance table as text; see compliance_text.h.
 *
 * Words live in the tables below, in both languages; which count is which
 * (and so what each column means) is defined by ay_compliance() in
 * db/migrations/0008_compliance.sql.
 */
#include "compliance_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "people_text.h"

/* ---- words ------------------------------------------------------------------- */

/* The report kinds, in the order of their counts. */
static const char *const report_words[6][2] = {
    {"口头报告", "Verbal notices"},   {"书面报告", "Written reports"},
    {"终报", "Final reports"},        {"安全月报", "Monthly safety reports"},
    {"风险研判报告", "Risk reports"}, {"隐患自查", "Hazard self-inspections"},
};

/* What each of a report kind's four counts is (after the kind's name). */
static const char *const report_count_words[4][2] = {
    [AYCTL_C_ON_TIME] = {"按时", "on time"},
    [AYCTL_C_LATE] = {"迟报", "late"},
    [AYCTL_C_LATE_MAX_MIN] = {"最长迟报分钟", "max minutes late"},
    [AYCTL_C_MISSING] = {"逾期未报", "missing"},
};

/* The CSV header of the other counts, from AYCTL_C_HAZARDS on. */
static const char *const other_words[AYCTL_COMPLIANCE_NCOUNTS - AYCTL_C_HAZARDS][2] = {
    {"隐患未销号", "Hazards open"},
    {"隐患整改逾期", "Hazards overdue"},
    {"隐患本月销号", "Hazards closed this month"},
    {"重大隐患挂牌督办", "Major hazards open (supervised)"},
    {"真实报警", "Real alarms"},
    {"测试报警", "Test alarms"},
    {"误报撤销", "False alarms"},
    {"上报按时签收", "Escalations acknowledged in time"},
    {"上报超时签收", "Escalations acknowledged late"},
    {"上报未签收", "Escalations never acknowledged"},
};

enum word {
    W_SCHOOL_ID,
    W_SCHOOL,
    W_HAZARDS,
    W_ALARMS,
    W_ESCALATIONS,
    W_NO_SCHOOLS,
    W_COUNT,
};

static const char *const words[W_COUNT][2] = {
    [W_SCHOOL_ID] = {"学校编号", "School id"},
    [W_SCHOOL] = {"学校", "School"},
    [W_HAZARDS] = {"隐患", "Hazards"},
    [W_ALARMS] = {"一键报警", "Alarms"},
    [W_ESCALATIONS] = {"上报签收", "Escalations"},
    [W_NO_SCHOOLS] = {"没有学校", "no schools"},
};

/* The table's shorter headings of the report kinds. */
static const char *const report_heads[6][2] = {
    {"口头报告", "Verbal"},  {"书面报告", "Written"}, {"终报", "Final"},
    {"安全月报", "Monthly"}, {"风险研判", "Risk"},    {"隐患自查", "Self-check"},
};

static const char *const legend[2][4] = {
    {"口头报告至隐患自查：按时/迟报(最长迟报分钟)/逾期未报",
     "隐患：未销号/整改逾期/本月销号/重大隐患挂牌督办", "一键报警：真实/测试/误报撤销",
     "上报签收：按时签收/超时签收/未签收"},
    {"Verbal to Self-check: on time/late (max minutes late)/missing",
     "Hazards: open/overdue/closed this month/major open (supervised)",
     "Alarms: real/test/false alarm", "Escalations: acknowledged in time/late/never"},
};

static int li(enum ay_lang lang)
{
    return lang == AY_LANG_EN ? 1 : 0;
}

/* ---- text ---------------------------------------------------------------------- */

bool ayctl_month_parse(const char *s, int *year, int *month)
{
    if (s == NULL || strlen(s) != 7 || s[4] != '-')
        return false;
    int y = 0;
    int m = 0;
    for (int i = 0; i < 7; i++) {
        if (i == 4)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (i < 4)
            y = y * 10 + (s[i] - '0');
        else
            m = m * 10 + (s[i] - '0');
    }
    if (y < 1970 || m < 1 || m > 12)
        return false;
    *year = y;
    *month = m;
    return true;
}

/* Decodes one UTF-8 character at p; *len gets its length in bytes (1 for
 * a byte that does not start a valid sequence, which yields -1). */
static int32_t decode(const unsigned char *p, size_t *len)
{
    int n = p[0] < 0x80             ? 1
            : (p[0] & 0xe0) == 0xc0 ? 2
            : (p[0] & 0xf0) == 0xe0 ? 3
            : (p[0] & 0xf8) == 0xf0 ? 4
                                    : 0;
    int32_t c = n == 1 ? p[0] : n == 2 ? (p[0] & 0x1f) : n == 3 ? (p[0] & 0x0f) : (p[0] & 0x07);

    *len = 1;
    if (n == 0)
        return -1;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        c = (c << 6) | (p[i] & 0x3f);
    }
    *len = (size_t)n;
    return c;
}

/* East Asian Wide (W) and Fullwidth (F) ranges of Unicode's
 * EastAsianWidth.txt, coarsened to the blocks text in this project uses:
 * Hangul Jamo, CJK (radicals to Yi, with kana and CJK punctuation), Hangul
 * syllables, CJK compatibility, vertical and small forms, fullwidth forms,
 * emoji, and the supplementary ideographic planes. */
static bool is_wide(int32_t c)
{
    return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
           (c >= 0x3041 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
           (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe10 && c <= 0xfe19) ||
           (c >= 0xfe30 && c <= 0xfe6f) || (c >= 0xff00 && c <= 0xff60) ||
           (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
           (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd);
}

size_t ayctl_text_width(const char *s)
{
    size_t w = 0;
    size_t len = 0;

    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p += len) {
        int32_t c = decode(p, &len);
        if (c < 0)
            w += 1;
        else if (c < 0x20 || (c >= 0x7f && c < 0xa0))
            continue;
        else
            w += is_wide(c) ? 2 : 1;
    }
    return w;
}

static const char *first_of(const char *a, const char *b)
{
    return (a != NULL && a[0] != '\0') ? a : (b ? b : "");
}

static const char *name_of(const struct ayctl_compliance_row *r, enum ay_lang lang)
{
    return lang == AY_LANG_EN ? first_of(r->name_en, r->name_zh) : first_of(r->name_zh, r->name_en);
}

/* ---- CSV ----------------------------------------------------------------------- */

/* One RFC 4180 field: quoted when it holds a comma or a double quote
 * (doubled inside); control characters (C0, DEL, and C1 in UTF-8) become
 * spaces, so no line break remains. A text a spreadsheet would run as a
 * formula is kept as text by a leading apostrophe. */
static void put_field(FILE *f, const char *s)
{
    s = s ? s : "";
    bool quote = strpbrk(s, ",\"") != NULL;

    if (quote)
        fputc('"', f);
    if (s[0] != '\0' && strchr("=+-@", s[0]) != NULL)
        fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"') {
            fputs("\"\"", f);
        } else if (*p < 0x20 || *p == 0x7f) {
            fputc(' ', f);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fputc(' ', f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
    if (quote)
        fputc('"', f);
}

static void put_csv_header(FILE *f, enum ay_lang lang)
{
    int l = li(lang);

    fprintf(f, "%s,%s", words[W_SCHOOL_ID][l], words[W_SCHOOL][l]);
    for (int k = 0; k < 6; k++)
        for (int c = 0; c < 4; c++)
            fprintf(f, lang == AY_LANG_EN ? ",%s %s" : ",%s%s", report_words[k][l],
                    report_count_words[c][l]);
    for (int c = AYCTL_C_HAZARDS; c < AYCTL_COMPLIANCE_NCOUNTS; c++)
        fprintf(f, ",%s", other_words[c - AYCTL_C_HAZARDS][l]);
    fputs("\r\n", f);
}

char *ayctl_compliance_csv(const struct ayctl_compliance_row *rows, size_t n, enum ay_lang lang)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = ayctl_text_open(&out, &len);

    if (f == NULL)
        return NULL;
    fputs("\xef\xbb\xbf", f); /* the BOM: spreadsheets then read UTF-8, not GBK */
    put_csv_header(f, lang);
    for (size_t i = 0; i < n; i++) {
        put_field(f, rows[i].school_id);
        fputc(',', f);
        put_field(f, name_of(&rows[i], lang));
        for (int c = 0; c < AYCTL_COMPLIANCE_NCOUNTS; c++)
            fprintf(f, ",%lld", rows[i].counts[c]);
        fputs("\r\n", f);
    }
    return ayctl_text_close(f, &out, !ferror(f));
}

/* ---- the terminal table ------------------------------------------------------------ */

#define NCOLS 10 /* school, six report kinds, hazards, alarms, escalations */
#define CELL  96

struct line {
    char *school; /* "name（id）" */
    char cells[NCOLS - 1][CELL];
};

/* "on time/late/missing", the late ones with their largest lateness:
 * "3/1(12)/0". */
static void report_cell(const long long *c, char *buf, size_t cap)
{
    if (c[AYCTL_C_LATE] > 0)
        snprintf(buf, cap, "%lld/%lld(%lld)/%lld", c[AYCTL_C_ON_TIME], c[AYCTL_C_LATE],
                 c[AYCTL_C_LATE_MAX_MIN], c[AYCTL_C_MISSING]);
    else
        snprintf(buf, cap, "%lld/%lld/%lld", c[AYCTL_C_ON_TIME], c[AYCTL_C_LATE],
                 c[AYCTL_C_MISSING]);
}

/* Counts joined by '/'. */
static void counts_cell(const long long *c, int n, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < n && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, i ? "/%lld" : "%lld", c[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static bool fill_line(const struct ayctl_compliance_row *r, enum ay_lang lang, struct line *l)
{
    l->school = ayctl_school_heading(r->school_id, r->name_zh, r->name_en, lang);
    if (l->school == NULL)
        return false;
    for (int k = 0; k < 6; k++)
        report_cell(&r->counts[AYCTL_C_VERBAL + 4 * k], l->cells[k], CELL);
    counts_cell(&r->counts[AYCTL_C_HAZARDS], 4, l->cells[6], CELL);
    counts_cell(&r->counts[AYCTL_C_ALARMS], 3, l->cells[7], CELL);
    counts_cell(&r->counts[AYCTL_C_ESCALATIONS], 3, l->cells[8], CELL);
    return true;
}

static const char *heading(int col, enum ay_lang lang)
{
    int l = li(lang);
    if (col == 0)
        return words[W_SCHOOL][l];
    if (col <= 6)
        return report_heads[col - 1][l];
    return words[col == 7 ? W_HAZARDS : col == 8 ? W_ALARMS : W_ESCALATIONS][l];
}

static const char *cell_of(const struct line *l, int col)
{
    return col == 0 ? l->school : l->cells[col - 1];
}

/* Writes s and pads it to width display columns (not after the last column). */
static void put_cell(FILE *f, const char *s, size_t width, bool last)
{
    fputs(s, f);
    if (last)
        return;
    for (size_t w = ayctl_text_width(s); w < width + 2; w++)
        fputc(' ', f);
}

static void put_title(FILE *f, const struct ayctl_compliance_title *t, enum ay_lang lang)
{
    char *d = ayctl_school_heading(t->district_id, t->name_zh, t->name_en, lang);

    if (lang == AY_LANG_EN)
        fputs("Compliance: ", f);
    else
        fputs("合规统计：", f);
    fputs(d ? d : t->district_id, f);
    if (lang == AY_LANG_EN)
        fprintf(f, ", %04d-%02d (%s time)\n", t->year, t->month, t->timezone);
    else
        fprintf(f, " %04d年%d月（%s 时间）\n", t->year, t->month, t->timezone);
    free(d);
}

static void put_table(FILE *f, const struct line *lines, size_t n, enum ay_lang lang)
{
    size_t width[NCOLS];

    for (int c = 0; c < NCOLS; c++) {
        width[c] = ayctl_text_width(heading(c, lang));
        for (size_t i = 0; i < n; i++) {
            size_t w = ayctl_text_width(cell_of(&lines[i], c));
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (int c = 0; c < NCOLS; c++)
        put_cell(f, heading(c, lang), width[c], c == NCOLS - 1);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < NCOLS; c++)
            put_cell(f, cell_of(&lines[i], c), width[c], c == NCOLS - 1);
        fputc('\n', f);
    }
    if (n == 0)
        fprintf(f, "%s\n", words[W_NO_SCHOOLS][li(lang)]);
}

char *ayctl_compliance_table(const struct ayctl_compliance_row *rows, size_t n,
                             const struct ayctl_compliance_title *t, enum ay_lang lang)
{
    char *out = NULL;
    size_t len = 0;
    struct line *lines = calloc(n + 1, sizeof(*lines));
    FILE *f = lines ? ayctl_text_open(&out, &len) : NULL;
    bool ok = f != NULL;

    for (size_t i = 0; ok && i < n; i++)
        ok = fill_line(&rows[i], lang, &lines[i]);
    if (ok) {
        put_title(f, t, lang);
        put_table(f, lines, n, lang);
        fputc('\n', f);
        for (int i = 0; i < 4; i++)
            fprintf(f, "%s\n", legend[li(lang)][i]);
        ok = !ferror(f);
    }
    for (size_t i = 0; lines != NULL && i < n; i++)
        free(lines[i].school);
    free(lines);
    return ayctl_text_close(f, &out, ok);
}
