/*
 * test_audit.c - the ay_audit plugin's decisions (audit.c): one line per
 * refusal naming account, client id, address and topic; hostile values stay
 * one bounded line; a flood costs a bounded number of lines plus a count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"

#define SEC       1000000LL
#define T0        (1000 * SEC)
#define LINES_MAX 1200

struct lines {
    size_t n;
    char text[LINES_MAX][AUDIT_LINE_MAX];
    enum ay_level level[LINES_MAX];
};

static void collect(void *arg, enum ay_level level, const char *line)
{
    struct lines *l = arg;
    assert_true(strlen(line) < AUDIT_LINE_MAX);
    assert_null(strchr(line, '\n'));
    if (l->n < LINES_MAX) {
        snprintf(l->text[l->n], AUDIT_LINE_MAX, "%s", line);
        l->level[l->n] = level;
        l->n++;
    }
}

struct fixture {
    struct lines lines;
    struct audit *a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct audit_limits lim = {AUDIT_DEFAULT_BURST, AUDIT_DEFAULT_WINDOW_S,
                               AUDIT_DEFAULT_MAX_LINES};
    assert_non_null(f);
    assert_int_equal(audit_new(&lim, collect, &f->lines, &f->a), AY_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    audit_free(f->a);
    free(f);
    return 0;
}

static void refuse_publish(struct fixture *f, const char *user, int64_t now_us)
{
    struct audit_refusal r = {
        "publish", user, user, "127.0.0.1", "ay/v1/d01/school/s2/dev-b1/alarm", "no ACL allows it"};
    audit_refused(f->a, &r, now_us);
}

/* Sum of suppressed=N over the summary lines of one user ("" = overall). */
static unsigned long suppressed_of(const struct lines *l, const char *user)
{
    unsigned long sum = 0;
    char want[128];
    snprintf(want, sizeof(want), "username=%s suppressed=", user);
    for (size_t i = 0; i < l->n; i++) {
        const char *p = strstr(l->text[i], "msg=\"refusals suppressed\"");
        if (p == NULL)
            continue;
        if (user[0] != '\0')
            p = strstr(l->text[i], want);
        else if (strstr(l->text[i], "username=") == NULL)
            p = strstr(l->text[i], "suppressed=");
        else
            p = NULL;
        if (p != NULL)
            sum += strtoul(strstr(p, "suppressed=") + strlen("suppressed="), NULL, 10);
    }
    return sum;
}

static size_t count_lines(const struct lines *l, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += strstr(l->text[i], needle) != NULL;
    return n;
}

static void test_audit_refused_publish_is_one_line_naming_account_client_address_topic(void **state)
{
    struct fixture *f = *state;
    refuse_publish(f, "dev-a1", T0);
    assert_int_equal(f->lines.n, 1);
    assert_string_equal(f->lines.text[0],
                        "level=warn svc=ay_audit msg=\"refused publish\" username=dev-a1 "
                        "client_id=dev-a1 address=127.0.0.1 "
                        "topic=ay/v1/d01/school/s2/dev-b1/alarm reason=\"no ACL allows it\"");
    assert_int_equal(f->lines.level[0], AY_LOG_WARN);
}

static void test_audit_login_without_username_leaves_out_username_and_topic(void **state)
{
    struct fixture *f = *state;
    struct audit_refusal r = {
        .action = "login", .client_id = "c1", .address = "::1", .reason = "no username"};
    audit_refused(f->a, &r, T0);
    assert_int_equal(f->lines.n, 1);
    assert_string_equal(f->lines.text[0], "level=warn svc=ay_audit msg=\"refused login\" "
                                          "client_id=c1 address=::1 reason=\"no username\"");
}

static void test_audit_escapes_quotes_newlines_and_control_bytes_in_values(void **state)
{
    struct fixture *f = *state;
    struct audit_refusal r = {"subscribe", "a\"b", "x\ny", "127.0.0.1", "t\\\x01/#", "r"};
    audit_refused(f->a, &r, T0);
    assert_int_equal(f->lines.n, 1);
    assert_non_null(strstr(f->lines.text[0], " username=\"a\\\"b\" client_id=\"x\\ny\" "));
    assert_non_null(strstr(f->lines.text[0], " topic=\"t\\\\\\x01/#\" "));
}

static void test_audit_cuts_long_values_at_a_character_boundary_and_tells_the_length(void **state)
{
    struct fixture *f = *state;
    static char topic[70000];
    static char user[70000];
    /* "é" is two bytes: a cut may not split it. */
    for (size_t i = 0; i + 2 < sizeof(topic); i += 2)
        memcpy(topic + i, "\xc3\xa9", 2);
    topic[sizeof(topic) - 2] = '\0';
    memset(user, 'u', sizeof(user) - 1);
    struct audit_refusal r = {"publish", user, user, "127.0.0.1", topic, "no ACL allows it"};
    audit_refused(f->a, &r, T0);
    assert_int_equal(f->lines.n, 1);
    const char *t = strstr(f->lines.text[0], " topic=");
    assert_non_null(t);
    const char *end = strchr(t + 1, ' ');
    assert_non_null(end);
    assert_true((end - t - 7) % 2 == 0); /* whole characters only */
    assert_non_null(strstr(f->lines.text[0], " topic_len=69998 reason=\"no ACL allows it\""));
}

static void test_audit_hostile_values_stay_one_bounded_line(void **state)
{
    struct fixture *f = *state;
    static char ctl[5000];
    memset(ctl, '\n', sizeof(ctl) - 1); /* each byte escaped to two */
    struct audit_refusal r = {"publish", ctl, ctl, ctl, ctl, ctl};
    audit_refused(f->a, &r, T0);
    assert_int_equal(f->lines.n, 1); /* collect() checks: < AUDIT_LINE_MAX, no newline */
    assert_true(strlen(f->lines.text[0]) > AUDIT_LINE_MAX / 2);
}

static void test_audit_longest_values_a_client_can_send_fit_whole(void **state)
{
    struct fixture *f = *state;
    static char quotes[70000]; /* '"' is escaped to two bytes; control bytes never come */
    memset(quotes, '"', sizeof(quotes) - 1);
    struct audit_refusal r = {
        "unsubscribe", quotes,
        quotes,        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
        quotes,        "wrong password, disabled account or client id not allowed"};
    audit_refused(f->a, &r, T0);
    assert_int_equal(f->lines.n, 1);
    const char *end = "topic_len=69999 reason=\"wrong password, disabled account or client id "
                      "not allowed\"";
    size_t n = strlen(f->lines.text[0]);
    assert_true(n > strlen(end));
    assert_string_equal(f->lines.text[0] + n - strlen(end), end);
}

static void test_audit_flood_of_one_account_gives_burst_lines_then_one_count(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 200; i++)
        refuse_publish(f, "dev-b1", T0 + i * 1000);
    assert_int_equal(f->lines.n, AUDIT_DEFAULT_BURST);
    /* nothing more until the window has ended */
    audit_tick(f->a, T0 + 5 * SEC);
    assert_int_equal(f->lines.n, AUDIT_DEFAULT_BURST);
    audit_tick(f->a, T0 + AUDIT_DEFAULT_WINDOW_S * SEC);
    assert_int_equal(f->lines.n, AUDIT_DEFAULT_BURST + 1);
    assert_string_equal(f->lines.text[AUDIT_DEFAULT_BURST],
                        "level=warn svc=ay_audit msg=\"refusals suppressed\" username=dev-b1 "
                        "suppressed=190 burst=10 window_s=10");
    /* the next window starts afresh */
    refuse_publish(f, "dev-b1", T0 + 11 * SEC);
    assert_int_equal(f->lines.n, AUDIT_DEFAULT_BURST + 2);
    assert_non_null(strstr(f->lines.text[AUDIT_DEFAULT_BURST + 1], "msg=\"refused publish\""));
}

static void test_audit_flood_does_not_hide_another_account(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 50; i++)
        refuse_publish(f, "dev-b1", T0);
    refuse_publish(f, "dev-a1", T0);
    assert_int_equal(count_lines(&f->lines, "username=dev-a1 "), 1);
}

static void test_audit_count_is_told_when_the_next_refusal_comes_without_a_tick(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 15; i++)
        refuse_publish(f, "dev-b1", T0);
    refuse_publish(f, "dev-b1", T0 + 10 * SEC);
    assert_int_equal(suppressed_of(&f->lines, "dev-b1"), 5);
    assert_int_equal(count_lines(&f->lines, "msg=\"refused publish\""), 11);
}

static void test_audit_many_usernames_stay_within_the_overall_budget(void **state)
{
    struct fixture *f = *state;
    char user[32];
    /* 1000 logins under 1000 made-up names, each 12 times, within a second */
    for (int round = 0; round < 12; round++) {
        for (int i = 0; i < 1000; i++) {
            snprintf(user, sizeof(user), "guess-%d", i);
            struct audit_refusal r = {"login", user, user, "10.0.0.9", NULL, "unknown account"};
            audit_refused(f->a, &r, T0 + round * 1000 + i);
        }
    }
    assert_int_equal(f->lines.n, AUDIT_DEFAULT_MAX_LINES);
    for (int64_t t = T0 + SEC; t <= T0 + 12 * SEC; t += SEC)
        audit_tick(f->a, t);
    /* one more line: what the budget swallowed */
    assert_int_equal(f->lines.n, AUDIT_DEFAULT_MAX_LINES + 1);
    assert_int_equal(suppressed_of(&f->lines, ""), 12000 - AUDIT_DEFAULT_MAX_LINES);
    assert_non_null(strstr(f->lines.text[AUDIT_DEFAULT_MAX_LINES],
                           "reason=\"log budget of all accounts used up\" max_lines=100"));
}

static void test_audit_every_refusal_is_a_line_or_counted(void **state)
{
    struct fixture *f = *state;
    char user[32];
    unsigned long total = 0;
    /* 300 accounts (more than the table holds), 1..30 refusals each */
    for (int i = 0; i < 300; i++) {
        snprintf(user, sizeof(user), "acct-%d", i);
        for (int k = 0; k <= i % 30; k++) {
            refuse_publish(f, user, T0 + i * 100 + k);
            total++;
        }
    }
    for (int64_t t = T0 + SEC; t <= T0 + 25 * SEC; t += SEC)
        audit_tick(f->a, t);
    unsigned long told = count_lines(&f->lines, "msg=\"refused publish\"");
    for (int i = 0; i < 300; i++) {
        snprintf(user, sizeof(user), "acct-%d", i);
        told += suppressed_of(&f->lines, user);
    }
    told += suppressed_of(&f->lines, "");
    assert_int_equal(told, total);
}

static void test_audit_new_refuses_zero_limits(void **state)
{
    (void)state;
    struct audit *a = NULL;
    struct lines *l = NULL;
    struct audit_limits zero_burst = {0, 10, 100};
    struct audit_limits zero_window = {10, 0, 100};
    assert_int_equal(audit_new(&zero_burst, collect, l, &a), AY_ERR_INVALID);
    assert_int_equal(audit_new(&zero_window, collect, l, &a), AY_ERR_INVALID);
    assert_null(a);
    audit_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_audit_refused_publish_is_one_line_naming_account_client_address_topic, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_audit_login_without_username_leaves_out_username_and_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_audit_escapes_quotes_newlines_and_control_bytes_in_values, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_audit_cuts_long_values_at_a_character_boundary_and_tells_the_length, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_audit_hostile_values_stay_one_bounded_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_longest_values_a_client_can_send_fit_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_audit_flood_of_one_account_gives_burst_lines_then_one_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_flood_does_not_hide_another_account, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_audit_count_is_told_when_the_next_refusal_comes_without_a_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_many_usernames_stay_within_the_overall_budget,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_every_refusal_is_a_line_or_counted, setup,
                                        teardown),
        cmocka_unit_test(test_audit_new_refuses_zero_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
