/*
 * ay_tz.c - time zones from TZif files and POSIX TZ rules; see ay_tz.h.
 *
 * Owns: reading one TZif file (RFC 8536) into an immutable table of
 * transitions plus the footer's POSIX rule for instants after the last
 * transition, and the conversions between UTC and local wall time.
 * Everything is in seconds internally (TZif's unit); the public functions
 * take and give UTC microseconds like the rest of the project.
 * Does not own: the calendar (ay_time's days_from_civil), leap seconds
 * (files with a leap-second table, tzdata's "right/" zones, are refused).
 * Threads: no global state; a zone is never written after it is made.
 */
#include "ay_tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ay_time.h"

#define US_PER_SEC   1000000LL
#define SECS_PER_DAY 86400LL
/* UTC offsets a TZif file may hold: RFC 8536 section 3.2 ("SHOULD be in the
 * range [-89999, 93599]", about -25 h .. +26 h). */
#define OFFSET_MIN_S (-89999)
#define OFFSET_MAX_S 93599
/* The instant of a wall time is within OFFSET_MAX_S of it; look a bit wider. */
#define WINDOW_S (OFFSET_MAX_S + 3600LL)
/* Transitions walked for one wall time: real zones have at most a few in the
 * 2 * WINDOW_S around it; a hostile file cannot make the walk unbounded. */
#define WALK_MAX 256
/* Transition time of a POSIX rule: RFC 8536 section 3.3.1 allows -167..167 h. */
#define RULE_HOURS_MAX 167
/* Default transition time of a POSIX rule date: 02:00 local (POSIX). */
#define RULE_TIME_DEFAULT_S (2 * 3600)

/* ---- types ---- */

enum rule_kind {
    RULE_JULIAN1, /* Jn: day 1..365 of the year, February 29 never counted */
    RULE_JULIAN0, /* n: day 0..365 of the year, February 29 counted */
    RULE_MONTH,   /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m */
};

struct rule_date {
    enum rule_kind kind;
    int n;
    int month;
    int week;
    int wday;
    int32_t time_s; /* local time of day of the change, -167 h .. 167 h */
};

struct posix_rule {
    int32_t std_off_s; /* east positive (POSIX writes west positive) */
    int32_t dst_off_s;
    bool has_dst;
    struct rule_date start; /* given in standard time */
    struct rule_date end;   /* given in daylight saving time */
};

struct ay_tz {
    size_t ntrans;
    int64_t *at_s;       /* transition instants, strictly increasing */
    int32_t *off_s;      /* offset in force from at_s[i] on */
    int32_t first_off_s; /* before at_s[0]: time type 0 (RFC 8536 section 3.2) */
    bool has_rule;       /* footer present: it rules from the last transition on */
    struct posix_rule rule;
};

/* ---- calendar ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int days_in_month(int64_t y, int m)
{
    int64_t first = ay_time_days_from_civil(y, m, 1);
    int64_t next =
        m == 12 ? ay_time_days_from_civil(y + 1, 1, 1) : ay_time_days_from_civil(y, m + 1, 1);
    return (int)(next - first);
}

/* 0 = Sunday for a day count since 1970-01-01 (a Thursday). */
static int weekday_of(int64_t days)
{
    return (int)(((days % 7) + 11) % 7);
}

static int64_t year_of(int64_t t_s)
{
    int64_t y;
    int m;
    int d;

    ay_time_civil_from_days(floor_div(t_s, SECS_PER_DAY), &y, &m, &d);
    return y;
}

/* ---- POSIX TZ rules ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A zone abbreviation: 3 or more letters, or <...> of letters, digits, + and -. */
static bool parse_abbr(const char **p)
{
    const char *q = *p;
    size_t n = 0;

    if (*q == '<') {
        for (q++; is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-'; q++)
            n++;
        if (*q != '>')
            return false;
        q++;
    } else {
        for (; is_alpha(*q); q++)
            n++;
    }
    if (n < 3)
        return false;
    *p = q;
    return true;
}

/* Up to max_digits digits, at most max; advances *p. */
static bool parse_num(const char **p, int max_digits, int max, int *out)
{
    int v = 0;
    int n = 0;

    while (n < max_digits && is_digit((*p)[n])) {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n == 0 || v > max)
        return false;
    *p += n;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h, as seconds. */
static bool parse_hms(const char **p, int max_h, int32_t *out)
{
    const char *q = *p;
    int sign = 1;
    int h;
    int m = 0;
    int s = 0;

    if (*q == '+' || *q == '-')
        sign = *q++ == '-' ? -1 : 1;
    if (!parse_num(&q, 3, max_h, &h))
        return false;
    if (*q == ':') {
        q++;
        if (!parse_num(&q, 2, 59, &m))
            return false;
        if (*q == ':') {
            q++;
            if (!parse_num(&q, 2, 59, &s))
                return false;
        }
    }
    *p = q;
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

/* Jn, n or Mm.w.d, then an optional /time. */
static bool parse_date(const char **p, struct rule_date *r)
{
    const char *q = *p;

    if (*q == 'J') {
        q++;
        r->kind = RULE_JULIAN1;
        if (!parse_num(&q, 3, 365, &r->n) || r->n < 1)
            return false;
    } else if (*q == 'M') {
        q++;
        r->kind = RULE_MONTH;
        if (!parse_num(&q, 2, 12, &r->month) || r->month < 1 || *q++ != '.' ||
            !parse_num(&q, 1, 5, &r->week) || r->week < 1 || *q++ != '.' ||
            !parse_num(&q, 1, 6, &r->wday))
            return false;
    } else {
        r->kind = RULE_JULIAN0;
        if (!parse_num(&q, 3, 365, &r->n))
            return false;
    }
    r->time_s = RULE_TIME_DEFAULT_S;
    if (*q == '/') {
        q++;
        if (!parse_hms(&q, RULE_HOURS_MAX, &r->time_s))
            return false;
    }
    *p = q;
    return true;
}

/* POSIX offsets are west-positive hh <= 24; stored east-positive. */
static bool parse_offset(const char **p, int32_t *east_s)
{
    int32_t west_s;

    if (!parse_hms(p, 24, &west_s) || -west_s < OFFSET_MIN_S || -west_s > OFFSET_MAX_S)
        return false;
    *east_s = -west_s;
    return true;
}

/* On false, *why says which part is wrong; r is then partly written. */
static bool parse_rule(const char *s, struct posix_rule *r, const char **why)
{
    const char *p = s;

    memset(r, 0, sizeof(*r));
    *why = "standard time name (3+ letters or <...>)";
    if (!parse_abbr(&p))
        return false;
    *why = "standard time offset ([+-]hh[:mm[:ss]], hh <= 24)";
    if (!parse_offset(&p, &r->std_off_s))
        return false;
    r->dst_off_s = r->std_off_s;
    if (*p == '\0')
        return true;
    *why = "daylight saving time name (3+ letters or <...>)";
    if (!parse_abbr(&p))
        return false;
    r->has_dst = true;
    r->dst_off_s = r->std_off_s + 3600;
    *why = "daylight saving time offset ([+-]hh[:mm[:ss]], hh <= 24)";
    if (*p != ',' && *p != '\0' && !parse_offset(&p, &r->dst_off_s))
        return false;
    if (*p == '\0') {
        /* No dates: the US rules, as glibc assumes without a posixrules file. */
        r->start = (struct rule_date){RULE_MONTH, 0, 3, 2, 0, RULE_TIME_DEFAULT_S};
        r->end = (struct rule_date){RULE_MONTH, 0, 11, 1, 0, RULE_TIME_DEFAULT_S};
        return true;
    }
    *why = "start date (,Jn or ,n or ,Mm.w.d, then /time with hours <= 167)";
    if (*p++ != ',' || !parse_date(&p, &r->start))
        return false;
    *why = "end date (,Jn or ,n or ,Mm.w.d, then /time with hours <= 167)";
    if (*p++ != ',' || !parse_date(&p, &r->end))
        return false;
    *why = "text after the end date";
    return *p == '\0';
}

/* Day number (since 1970-01-01) on which date r falls in year y. */
static int64_t rule_day(const struct rule_date *r, int64_t y)
{
    int64_t jan1 = ay_time_days_from_civil(y, 1, 1);

    switch (r->kind) {
    case RULE_JULIAN1:
        return jan1 + r->n - 1 + (r->n >= 60 && days_in_month(y, 2) == 29);
    case RULE_JULIAN0:
        return jan1 + r->n;
    case RULE_MONTH:
        break;
    }
    int64_t first = ay_time_days_from_civil(y, r->month, 1);
    int64_t day = first + (r->wday - weekday_of(first) + 7) % 7 + (int64_t)(r->week - 1) * 7;
    while (day >= first + days_in_month(y, r->month))
        day -= 7; /* week 5 means the last one */
    return day;
}

/* UTC instants at which DST starts and ends in year y. */
static void rule_changes(const struct posix_rule *r, int64_t y, int64_t *start_s, int64_t *end_s)
{
    *start_s = rule_day(&r->start, y) * SECS_PER_DAY + r->start.time_s - r->std_off_s;
    *end_s = rule_day(&r->end, y) * SECS_PER_DAY + r->end.time_s - r->dst_off_s;
}

/*
 * The offset a rule gives at t: that of the latest change at or before t.
 * Changes of the years around t are compared rather than assuming that DST
 * starts and ends in the same calendar year, so southern-hemisphere rules,
 * transition times past 24 h and DST all year ("EST5EDT,0/0,J365/25", where
 * one year's end is the next year's start: the start wins) need no special
 * case.
 */
static int32_t rule_offset(const struct posix_rule *r, int64_t t_s)
{
    int64_t y = year_of(t_s);
    int64_t best = INT64_MIN;
    int32_t off = r->std_off_s;

    if (!r->has_dst)
        return off;
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        int64_t start;
        int64_t end;
        rule_changes(r, yy, &start, &end);
        if (start <= t_s && start >= best) {
            best = start;
            off = r->dst_off_s;
        }
        if (end <= t_s && end >= best) {
            best = end;
            off = r->std_off_s;
        }
    }
    return off;
}

/* The first change of the rule strictly after t, if it has any. */
static bool rule_next(const struct posix_rule *r, int64_t t_s, int64_t *at_s)
{
    int64_t y = year_of(t_s);
    bool found = false;

    if (!r->has_dst)
        return false;
    for (int64_t yy = y - 1; yy <= y + 2; yy++) {
        int64_t ch[2];
        rule_changes(r, yy, &ch[0], &ch[1]);
        for (int i = 0; i < 2; i++) {
            if (ch[i] > t_s && (!found || ch[i] < *at_s)) {
                *at_s = ch[i];
                found = true;
            }
        }
    }
    return found;
}

/* A printable, bounded copy of untrusted text for an error message. */
static void quote(const char *s, char *buf, size_t cap)
{
    size_t n = 0;

    for (; s[n] != '\0' && n + 1 < cap; n++)
        buf[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
    buf[n] = '\0';
    if (s[n] != '\0' && cap > 4)
        memcpy(buf + cap - 4, "...", 4);
}

enum ay_err ay_tz_parse_posix(const char *rule, struct ay_tz **out, char err[AY_ERRLEN])
{
    struct posix_rule r;
    const char *why = "missing";
    char shown[AY_TZ_NAME_MAX + 4];

    if (rule == NULL || !parse_rule(rule, &r, &why)) {
        quote(rule != NULL ? rule : "", shown, sizeof(shown));
        ay_errf(err, "invalid POSIX TZ rule \"%s\": bad %s", shown, why);
        return AY_ERR_INVALID;
    }
    struct ay_tz *z = calloc(1, sizeof(*z));
    if (z == NULL) {
        ay_errf(err, "out of memory for a time zone");
        return AY_ERR_NOMEM;
    }
    z->first_off_s = r.std_off_s;
    z->has_rule = true;
    z->rule = r;
    *out = z;
    return AY_OK;
}

void ay_tz_free(struct ay_tz *z)
{
    if (z == NULL)
        return;
    free(z->at_s);
    free(z->off_s);
    free(z);
}

/* ---- TZif files (RFC 8536) ---- */

struct tzif_counts {
    uint32_t isutcnt;
    uint32_t isstdcnt;
    uint32_t leapcnt;
    uint32_t timecnt;
    uint32_t typecnt;
    uint32_t charcnt;
};

/* A cursor over the file's bytes; every take is bounds-checked. */
struct cursor {
    const unsigned char *p;
    size_t len;
    size_t pos;
};

static const unsigned char *take(struct cursor *c, uint64_t n)
{
    if (n > c->len - c->pos)
        return NULL;
    const unsigned char *at = c->p + c->pos;
    c->pos += (size_t)n;
    return at;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The 44-byte header; *version is 1 for version 1 files, else 2 or more. */
static bool read_header(struct cursor *c, int *version, struct tzif_counts *n, const char **why)
{
    const unsigned char *h = take(c, 44);

    *why = "truncated header";
    if (h == NULL)
        return false;
    *why = "not a TZif file";
    if (memcmp(h, "TZif", 4) != 0 || (h[4] != 0 && (h[4] < '2' || h[4] > '9')))
        return false;
    *version = h[4] == 0 ? 1 : h[4] - '0';
    n->isutcnt = be32(h + 20);
    n->isstdcnt = be32(h + 24);
    n->leapcnt = be32(h + 28);
    n->timecnt = be32(h + 32);
    n->typecnt = be32(h + 36);
    n->charcnt = be32(h + 40);
    *why = "bad counts in header";
    if (n->typecnt == 0 || n->typecnt > 256 || n->charcnt == 0 ||
        (n->isutcnt != 0 && n->isutcnt != n->typecnt) ||
        (n->isstdcnt != 0 && n->isstdcnt != n->typecnt))
        return false;
    return true;
}

static uint64_t block_len(const struct tzif_counts *n, int time_len)
{
    return (uint64_t)n->timecnt * (uint64_t)(time_len + 1) + (uint64_t)n->typecnt * 6 + n->charcnt +
           (uint64_t)n->leapcnt * (uint64_t)(time_len + 4) + n->isstdcnt + n->isutcnt;
}

/* Reads one data block (times of time_len 4 or 8 bytes) into z. */
static enum ay_err read_block(struct cursor *c, const struct tzif_counts *n, int time_len,
                              struct ay_tz *z, const char **why)
{
    /* Layout: times, type indices, types, abbreviations, leap seconds,
     * standard/wall and UT/local indicators (the last three unused). */
    const unsigned char *times = take(c, block_len(n, time_len));
    *why = "truncated data block";
    if (times == NULL)
        return AY_ERR_INVALID;
    const unsigned char *idx = times + (size_t)n->timecnt * (size_t)time_len;
    const unsigned char *types = idx + n->timecnt;
    *why = "leap-second tables are not supported (use a zone outside right/)";
    if (n->leapcnt != 0)
        return AY_ERR_INVALID;
    for (uint32_t i = 0; i < n->typecnt; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);
        *why = "bad local time type";
        if (off < OFFSET_MIN_S || off > OFFSET_MAX_S || types[6 * i + 4] > 1 ||
            types[6 * i + 5] >= n->charcnt)
            return AY_ERR_INVALID;
    }
    z->first_off_s = (int32_t)be32(types);
    z->ntrans = n->timecnt;
    if (n->timecnt == 0)
        return AY_OK;
    z->at_s = calloc(n->timecnt, sizeof(*z->at_s));
    z->off_s = calloc(n->timecnt, sizeof(*z->off_s));
    if (z->at_s == NULL || z->off_s == NULL)
        return AY_ERR_NOMEM;
    for (uint32_t i = 0; i < n->timecnt; i++) {
        const unsigned char *tp = times + (size_t)i * (size_t)time_len;
        z->at_s[i] = time_len == 8 ? be64(tp) : (int64_t)(int32_t)be32(tp);
        *why = "transition times not increasing, or a bad type index";
        if ((i > 0 && z->at_s[i] <= z->at_s[i - 1]) || idx[i] >= n->typecnt)
            return AY_ERR_INVALID;
        z->off_s[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    return AY_OK;
}

/* The footer of a version 2+ file: "\n<POSIX TZ rule>\n", the rule may be empty. */
static bool read_footer(struct cursor *c, struct ay_tz *z, const char **why)
{
    const unsigned char *nl = take(c, 1);
    char rule[256];
    size_t n = 0;

    *why = "missing footer";
    if (nl == NULL || *nl != '\n')
        return false;
    for (;;) {
        const unsigned char *b = take(c, 1);
        *why = "unterminated or overlong footer";
        if (b == NULL || n + 1 >= sizeof(rule) || *b == '\0')
            return false;
        if (*b == '\n')
            break;
        rule[n++] = (char)*b;
    }
    rule[n] = '\0';
    if (n == 0)
        return true;
    const char *rule_why;
    if (!parse_rule(rule, &z->rule, &rule_why)) {
        *why = "bad POSIX TZ rule in footer";
        return false;
    }
    z->has_rule = true;
    return true;
}

/* Parses a whole TZif file: for version 2+, skips the 32-bit block and
 * reads the 64-bit one and the footer. */
static enum ay_err parse_tzif(const unsigned char *buf, size_t len, struct ay_tz *z,
                              const char **why)
{
    struct cursor c = {buf, len, 0};
    struct tzif_counts n;
    int version;

    if (!read_header(&c, &version, &n, why))
        return AY_ERR_INVALID;
    if (version == 1)
        return read_block(&c, &n, 4, z, why);
    *why = "truncated version 1 data block";
    if (take(&c, block_len(&n, 4)) == NULL)
        return AY_ERR_INVALID;
    int version2;
    if (!read_header(&c, &version2, &n, why))
        return AY_ERR_INVALID;
    enum ay_err rc = read_block(&c, &n, 8, z, why);
    if (rc != AY_OK)
        return rc;
    return read_footer(&c, z, why) ? AY_OK : AY_ERR_INVALID;
}

/* ---- loading ---- */

/* Zone names: see ay_tz.h; on false *why says what is wrong. */
static bool name_is_valid(const char *name, const char **why)
{
    size_t len = strlen(name);

    *why = "empty";
    if (len == 0)
        return false;
    *why = "longer than 64 characters";
    if (len > AY_TZ_NAME_MAX)
        return false;
    *why = "contains \"..\"";
    if (strstr(name, "..") != NULL)
        return false;
    *why = "starts or ends with '/' or has an empty component";
    if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//") != NULL)
        return false;
    *why = "has a character other than A-Z a-z 0-9 _ + - /";
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!is_alpha(ch) && !is_digit(ch) && ch != '_' && ch != '+' && ch != '-' && ch != '/')
            return false;
    }
    return true;
}

/* Reads the file at path (at most AY_TZ_FILE_MAX bytes) into *buf. */
static enum ay_err read_file(const char *path, const char *name, unsigned char **buf, size_t *len,
                             char err[AY_ERRLEN])
{
    enum ay_err rc = AY_OK;
    struct stat st;
    unsigned char *data = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
            ay_errf(err, "unknown time zone \"%s\": no %s", name, path);
            return AY_ERR_NOTFOUND;
        }
        ay_errf(err, "cannot read time zone \"%s\": %s: %s", name, path, strerror(errno));
        return AY_ERR_IO;
    }
    if (fstat(fd, &st) != 0) {
        ay_errf(err, "cannot read time zone \"%s\": %s: %s", name, path, strerror(errno));
        rc = AY_ERR_IO;
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        ay_errf(err, "unknown time zone \"%s\": %s is not a zone file", name, path);
        rc = AY_ERR_NOTFOUND;
        goto cleanup;
    }
    if (st.st_size > AY_TZ_FILE_MAX) {
        ay_errf(err, "invalid time zone file for \"%s\": %s is larger than %d bytes", name, path,
                AY_TZ_FILE_MAX);
        rc = AY_ERR_INVALID;
        goto cleanup;
    }
    /* One byte more than the size: a file that grew since fstat is noticed. */
    size_t cap = (size_t)st.st_size + 1;
    data = malloc(cap);
    if (data == NULL) {
        ay_errf(err, "out of memory reading time zone \"%s\"", name);
        rc = AY_ERR_NOMEM;
        goto cleanup;
    }
    while (got < cap) {
        ssize_t r = read(fd, data + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ay_errf(err, "cannot read time zone \"%s\": %s: %s", name, path, strerror(errno));
            rc = AY_ERR_IO;
            goto cleanup;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got == cap) {
        ay_errf(err, "cannot read time zone \"%s\": %s changed while being read", name, path);
        rc = AY_ERR_IO;
        goto cleanup;
    }
    *buf = data;
    *len = got;
    data = NULL;
cleanup:
    free(data);
    close(fd);
    return rc;
}

enum ay_err ay_tz_load_from(const char *dir, const char *name, struct ay_tz **out,
                            char err[AY_ERRLEN])
{
    enum ay_err rc;
    const char *why = NULL;
    char shown[AY_TZ_NAME_MAX + 4];
    char path[PATH_MAX];
    unsigned char *buf = NULL;
    size_t len = 0;
    struct ay_tz *z = NULL;

    if (name == NULL || !name_is_valid(name, &why)) {
        quote(name != NULL ? name : "", shown, sizeof(shown));
        ay_errf(err, "invalid time zone name \"%s\": %s", shown, name != NULL ? why : "missing");
        return AY_ERR_INVALID;
    }
    int n = snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : AY_TZ_DIR, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        ay_errf(err, "invalid time zone directory for \"%s\": path too long", name);
        return AY_ERR_INVALID;
    }
    rc = read_file(path, name, &buf, &len, err);
    if (rc != AY_OK)
        goto cleanup;
    z = calloc(1, sizeof(*z));
    if (z == NULL) {
        ay_errf(err, "out of memory loading time zone \"%s\"", name);
        rc = AY_ERR_NOMEM;
        goto cleanup;
    }
    rc = parse_tzif(buf, len, z, &why);
    if (rc == AY_ERR_NOMEM)
        ay_errf(err, "out of memory loading time zone \"%s\"", name);
    else if (rc != AY_OK)
        ay_errf(err, "invalid time zone file for \"%s\" (%s): %s", name, path, why);
    if (rc != AY_OK)
        goto cleanup;
    *out = z;
    z = NULL;
cleanup:
    ay_tz_free(z);
    free(buf);
    return rc;
}

enum ay_err ay_tz_load(const char *name, struct ay_tz **out, char err[AY_ERRLEN])
{
    return ay_tz_load_from(AY_TZ_DIR, name, out, err);
}

/* ---- lookup and conversion ---- */

/* How many transitions are at or before t. */
static size_t count_upto(const struct ay_tz *z, int64_t t_s)
{
    size_t lo = 0;
    size_t hi = z->ntrans;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at_s[mid] <= t_s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int32_t offset_at(const struct ay_tz *z, int64_t t_s)
{
    size_t i = count_upto(z, t_s);

    if (i == z->ntrans && z->has_rule)
        return rule_offset(&z->rule, t_s);
    return i == 0 ? z->first_off_s : z->off_s[i - 1];
}

/* The first transition strictly after t, from the table or else the footer. */
static bool next_change(const struct ay_tz *z, int64_t t_s, int64_t *at_s)
{
    size_t i = count_upto(z, t_s);

    if (i < z->ntrans) {
        *at_s = z->at_s[i];
        return true;
    }
    return z->has_rule && rule_next(&z->rule, t_s, at_s);
}

/*
 * The instant of a local wall time (seconds of the local calendar as if it
 * were UTC). Walks the spans of constant offset from WINDOW_S before the
 * wall time forward; in the span [from, to) with offset off the candidate
 * is wall - off. The first span that contains its candidate gives the
 * earliest instant, so an ambiguous wall time gets its first occurrence. A
 * candidate before its span's start means the wall time was skipped when
 * that span began (a gap): the offset of the span before applies, which
 * moves the wall time forward by the size of the gap.
 */
static int64_t wall_to_utc_s(const struct ay_tz *z, int64_t wall_s)
{
    int64_t from = wall_s - WINDOW_S;
    int32_t prev_off = offset_at(z, from);

    for (int i = 0; i < WALK_MAX; i++) {
        int32_t off = offset_at(z, from);
        int64_t to = 0;
        bool more = next_change(z, from, &to);
        int64_t t = wall_s - off;
        if (t < from)
            return wall_s - prev_off;
        if (!more || t < to)
            return t;
        prev_off = off;
        from = to;
    }
    return wall_s - prev_off;
}

int32_t ay_tz_offset_s(const struct ay_tz *z, int64_t utc_us)
{
    return offset_at(z, floor_div(utc_us, US_PER_SEC));
}

enum ay_err ay_tz_local_to_utc(const struct ay_tz *z, int y, int mo, int d, int h, int mi, int s,
                               int64_t *utc_us)
{
    if (z == NULL || utc_us == NULL || y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
        return AY_ERR_INVALID;
    int64_t wall_s = ay_time_days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 + s;
    *utc_us = wall_to_utc_s(z, wall_s) * US_PER_SEC;
    return AY_OK;
}

void ay_tz_utc_to_local(const struct ay_tz *z, int64_t utc_us, struct ay_tz_civil *out)
{
    int64_t t = floor_div(utc_us, US_PER_SEC);
    int32_t off = offset_at(z, t);
    int64_t wall = t + off;
    int64_t days = floor_div(wall, SECS_PER_DAY);
    int64_t secs = wall - days * SECS_PER_DAY;
    int64_t y;

    ay_time_civil_from_days(days, &y, &out->month, &out->day);
    out->year = (int)y;
    out->hour = (int)(secs / 3600);
    out->minute = (int)(secs / 60 % 60);
    out->second = (int)(secs % 60);
    out->weekday = weekday_of(days);
    out->offset_s = off;
}
