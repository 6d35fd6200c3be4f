/*
 * test_hazard.c - the closed loop of a hazard (services/recorder/hazard.c,
 * domain.md rule 3): which step may follow which and why not, who may
 * verify, when interim measures are required, and what each step does to
 * the rectification deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/hazard.pb-c.h"
#include "hazard.h"

#define ID  "9d4c1b7e-5f2a-4c8d-b6e3-7a0f4d1c8e52"
#define US  1000000LL
#define DAY (86400LL * US)

enum {
    REGISTERED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REGISTERED,
    RECTIFYING = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_RECTIFYING,
    RECTIFIED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_RECTIFIED,
    VERIFIED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_VERIFIED,
    CLOSED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_CLOSED,
    REOPENED = ANYUAN__V1__HAZARD_STATUS__HAZARD_STATUS_REOPENED,
    GENERAL = ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_GENERAL,
    MAJOR = ANYUAN__V1__HAZARD_GRADE__HAZARD_GRADE_MAJOR,
    FIRE = ANYUAN__V1__HAZARD_CATEGORY__HAZARD_CATEGORY_FIRE,
};

/* A general hazard found by 张老师, 赵主任 responsible, due in 30 days. */
static struct recorder_hazard hazard_in(int status)
{
    struct recorder_hazard h;
    memset(&h, 0, sizeof(h));
    h.status = status;
    h.grade = GENERAL;
    h.category = FIRE;
    snprintf(h.reporter, sizeof(h.reporter), "张老师");
    snprintf(h.responsible, sizeof(h.responsible), "赵主任");
    h.dl_status = RECORDER_HAZARD_DL_PENDING;
    h.dl_due_us = 30 * DAY;
    return h;
}

static enum ay_err step(struct recorder_hazard *h, int to, const char *by, char reason[AY_ERRLEN])
{
    struct recorder_hazard after;
    enum ay_err rc = recorder_hazard_step(h, ID, to, by, &after, reason);
    if (rc == AY_OK)
        *h = after;
    return rc;
}

static void test_hazard_the_legal_path_ends_in_closing(void **state)
{
    (void)state;
    struct recorder_hazard h = hazard_in(REGISTERED);
    char reason[AY_ERRLEN] = "";
    static const struct {
        int to;
        const char *by;
    } path[] = {{RECTIFYING, "赵主任"},
                {RECTIFYING, "赵主任"},
                {RECTIFIED, "赵主任"},
                {VERIFIED, "李督查"},
                {CLOSED, "李督查"}};
    for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
        if (step(&h, path[i].to, path[i].by, reason) != AY_OK)
            fail_msg("step %zu refused: %s", i, reason);
        assert_int_equal(h.status, path[i].to);
    }
    /* Who reported it and who is responsible are kept along the way. */
    assert_string_equal(h.responsible, "赵主任");
    assert_string_equal(h.reporter, "张老师");
}

static void test_hazard_every_illegal_step_is_refused_naming_the_rule(void **state)
{
    (void)state;
    static const struct {
        int from, to;
        const char *reason;
    } cases[] = {
        {REGISTERED, RECTIFIED,
         "hazard-update.status: HAZARD_STATUS_RECTIFIED skips a step: hazard " ID
         " is HAZARD_STATUS_REGISTERED; next is HAZARD_STATUS_RECTIFYING"},
        {REGISTERED, VERIFIED, "HAZARD_STATUS_VERIFIED skips a step"},
        {RECTIFYING, VERIFIED,
         "HAZARD_STATUS_VERIFIED skips a step: hazard " ID
         " is HAZARD_STATUS_RECTIFYING; next is HAZARD_STATUS_RECTIFYING or "
         "HAZARD_STATUS_RECTIFIED"},
        {REGISTERED, CLOSED,
         "hazard-update.status: HAZARD_STATUS_CLOSED (销号) needs a verification first: hazard " ID
         " is HAZARD_STATUS_REGISTERED"},
        {RECTIFYING, CLOSED, "HAZARD_STATUS_CLOSED (销号) needs a verification first"},
        {RECTIFIED, CLOSED,
         "needs a verification first: hazard " ID " is HAZARD_STATUS_RECTIFIED; next is "
         "HAZARD_STATUS_VERIFIED or HAZARD_STATUS_REOPENED"},
        {REGISTERED, REOPENED,
         "hazard-update.status: HAZARD_STATUS_REOPENED only after HAZARD_STATUS_RECTIFIED or "
         "HAZARD_STATUS_VERIFIED: hazard " ID " is HAZARD_STATUS_REGISTERED"},
        {RECTIFYING, REOPENED, "HAZARD_STATUS_REOPENED only after"},
        {REOPENED, REOPENED, "HAZARD_STATUS_REOPENED only after"},
        {RECTIFIED, RECTIFIED,
         "hazard-update.status: hazard " ID " is already HAZARD_STATUS_RECTIFIED"},
        {VERIFIED, VERIFIED, "is already HAZARD_STATUS_VERIFIED"},
        {RECTIFIED, RECTIFYING,
         "hazard-update.status: HAZARD_STATUS_RECTIFYING cannot follow HAZARD_STATUS_RECTIFIED "
         "(hazard " ID "); next is HAZARD_STATUS_VERIFIED or HAZARD_STATUS_REOPENED"},
        {VERIFIED, RECTIFIED, "HAZARD_STATUS_RECTIFIED cannot follow HAZARD_STATUS_VERIFIED"},
        {REOPENED, RECTIFIED, "HAZARD_STATUS_RECTIFIED skips a step"},
        {REOPENED, VERIFIED, "HAZARD_STATUS_VERIFIED skips a step"},
        {CLOSED, RECTIFYING,
         "hazard-update.status: hazard " ID
         " is closed (销号, HAZARD_STATUS_CLOSED); no step follows a closing"},
        {CLOSED, REOPENED, "no step follows a closing"},
        {CLOSED, CLOSED, "no step follows a closing"},
        {RECTIFYING, REGISTERED, "hazard-update.status: 1 is not a step of the loop"},
        {RECTIFYING, 42, "hazard-update.status: 42 is not a step of the loop"},
        {0, RECTIFYING, "hazard-update.hazardId: hazard " ID " has no known status"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct recorder_hazard h = hazard_in(cases[i].from);
        struct recorder_hazard after = hazard_in(RECTIFYING);
        char reason[AY_ERRLEN] = "";
        assert_int_equal(recorder_hazard_step(&h, ID, cases[i].to, "李督查", &after, reason),
                         AY_ERR_INVALID);
        if (strstr(reason, cases[i].reason) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, reason, cases[i].reason);
        assert_int_equal(after.status, RECTIFYING); /* untouched */
    }
}

static void
test_hazard_the_verifier_is_neither_the_responsible_person_nor_the_reporter(void **state)
{
    (void)state;
    char reason[AY_ERRLEN] = "";
    struct recorder_hazard h = hazard_in(RECTIFIED);

    assert_int_equal(step(&h, VERIFIED, "赵主任", reason), AY_ERR_INVALID);
    assert_string_equal(reason, "hazard-update.by.name: the verifier is the hazard's responsible "
                                "person (整改责任人); verification (查验) must be by someone else");
    /* Spaces around a name do not make another person. */
    assert_int_equal(step(&h, VERIFIED, "  赵主任 ", reason), AY_ERR_INVALID);
    assert_int_equal(step(&h, VERIFIED, "张老师", reason), AY_ERR_INVALID);
    assert_string_equal(reason, "hazard-update.by.name: the verifier is the person who reported "
                                "the hazard (foundBy); verification (查验) must be by someone "
                                "else");
    snprintf(h.responsible, sizeof(h.responsible), "Zhao Li");
    assert_int_equal(step(&h, VERIFIED, "zhao li", reason), AY_ERR_INVALID);
    assert_int_equal(h.status, RECTIFIED);
    /* The responsible person may rectify and, after verification, anyone may close. */
    assert_int_equal(step(&h, VERIFIED, "李督查", reason), AY_OK);
    assert_int_equal(step(&h, CLOSED, "张老师", reason), AY_OK);
}

static void test_hazard_reopened_from_rectified_or_verified_then_rectifying_again(void **state)
{
    (void)state;
    char reason[AY_ERRLEN] = "";
    int froms[] = {RECTIFIED, VERIFIED};
    for (size_t i = 0; i < 2; i++) {
        struct recorder_hazard h = hazard_in(froms[i]);
        assert_int_equal(step(&h, REOPENED, "李督查", reason), AY_OK);
        assert_int_equal(step(&h, RECTIFIED, "赵主任", reason), AY_ERR_INVALID);
        assert_int_equal(step(&h, RECTIFYING, "赵主任", reason), AY_OK);
        assert_int_equal(step(&h, RECTIFIED, "赵主任", reason), AY_OK);
        assert_int_equal(step(&h, VERIFIED, "李督查", reason), AY_OK);
        assert_int_equal(step(&h, CLOSED, "李督查", reason), AY_OK);
    }
}

static void test_hazard_a_move_is_another_status_or_a_new_deadline(void **state)
{
    (void)state;
    struct recorder_hazard h = hazard_in(RECTIFYING);
    assert_false(recorder_hazard_is_move(&h, RECTIFYING, 0));
    assert_true(recorder_hazard_is_move(&h, RECTIFYING, 40 * DAY));
    assert_true(recorder_hazard_is_move(&h, RECTIFIED, 0));
}

static void test_hazard_interim_measures_when_it_cannot_be_fixed_at_once(void **state)
{
    (void)state;
    struct ay_district_policy p;
    char reason[AY_ERRLEN] = "";
    struct recorder_hazard h = hazard_in(REGISTERED);
    const int64_t now = 100 * DAY;

    ay_policy_defaults(&p);
    /* General, due tomorrow at the latest: fixed at once, none needed. */
    assert_int_equal(recorder_hazard_check_interim(&h, "", now + DAY, now, &p, reason), AY_OK);
    /* Due later: required, and blank is none. */
    assert_int_equal(recorder_hazard_check_interim(&h, " \t", now + DAY + US, now, &p, reason),
                     AY_ERR_INVALID);
    assert_string_equal(reason, "hazard.interimMeasures: required: rectification is due more than "
                                "1d away (policy interim_measures_after); give the isolation and "
                                "warning signs in place until then");
    assert_int_equal(
        recorder_hazard_check_interim(&h, "设置警示带", now + 30 * DAY, now, &p, reason), AY_OK);
    /* A major hazard and one beyond authority: always. */
    h.grade = MAJOR;
    assert_int_equal(recorder_hazard_check_interim(&h, NULL, now + 3600 * US, now, &p, reason),
                     AY_ERR_INVALID);
    assert_string_equal(reason, "hazard.interimMeasures: required for a major hazard (重大隐患): "
                                "the isolation and warning signs in place until it is rectified");
    h.grade = GENERAL;
    h.beyond_authority = true;
    assert_int_equal(recorder_hazard_check_interim(&h, "", now + 3600 * US, now, &p, reason),
                     AY_ERR_INVALID);
    assert_non_null(strstr(reason, "hazard.interimMeasures: required for a hazard beyond the "
                                   "school's authority (beyondAuthority)"));
    /* The policy decides what "at once" is. */
    h.beyond_authority = false;
    p.interim_measures_after_s = 7 * 86400;
    assert_int_equal(recorder_hazard_check_interim(&h, "", now + 5 * DAY, now, &p, reason), AY_OK);
}

static void test_hazard_rectified_meets_the_deadline_pending_or_missed(void **state)
{
    (void)state;
    struct ay_district_policy p;
    struct recorder_hazard_dl_plan plan;
    ay_policy_defaults(&p);
    int states[] = {RECORDER_HAZARD_DL_PENDING, RECORDER_HAZARD_DL_MISSED};
    for (size_t i = 0; i < 2; i++) {
        struct recorder_hazard h = hazard_in(RECTIFYING);
        struct recorder_hazard after = h;
        h.dl_seq = 2;
        h.dl_status = (enum recorder_hazard_dl)states[i];
        recorder_hazard_plan_deadline(&h, RECTIFIED, 0, DAY, &p, &plan, &after);
        assert_int_equal(plan.action, RECORDER_HAZARD_DL_MEET);
        assert_int_equal(plan.seq, 2);
        assert_true(plan.due_us == 30 * DAY);
        assert_int_equal(after.dl_status, RECORDER_HAZARD_DL_MET);
    }
    /* Verified and closed find it met already: nothing more. */
    struct recorder_hazard h = hazard_in(RECTIFIED);
    h.dl_status = RECORDER_HAZARD_DL_MET;
    struct recorder_hazard after = h;
    recorder_hazard_plan_deadline(&h, VERIFIED, 0, DAY, &p, &plan, &after);
    assert_int_equal(plan.action, RECORDER_HAZARD_DL_KEEP);
}

static void test_hazard_a_new_deadline_moves_a_pending_one_and_follows_a_missed_one(void **state)
{
    (void)state;
    struct ay_district_policy p;
    struct recorder_hazard_dl_plan plan;
    struct recorder_hazard h = hazard_in(RECTIFYING);
    struct recorder_hazard after = h;
    ay_policy_defaults(&p);

    recorder_hazard_plan_deadline(&h, RECTIFYING, 0, DAY, &p, &plan, &after);
    assert_int_equal(plan.action, RECORDER_HAZARD_DL_KEEP);
    recorder_hazard_plan_deadline(&h, RECTIFYING, 40 * DAY, DAY, &p, &plan, &after);
    assert_int_equal(plan.action, RECORDER_HAZARD_DL_MOVE);
    assert_int_equal(plan.seq, 0);
    assert_true(plan.due_us == 40 * DAY);
    assert_true(after.dl_due_us == 40 * DAY);
    /* Missed: it stays missed; the new time is the next of the series. */
    h.dl_status = RECORDER_HAZARD_DL_MISSED;
    after = h;
    recorder_hazard_plan_deadline(&h, RECTIFYING, 40 * DAY, 35 * DAY, &p, &plan, &after);
    assert_int_equal(plan.action, RECORDER_HAZARD_DL_START);
    assert_int_equal(plan.seq, 1);
    assert_int_equal(after.dl_seq, 1);
    assert_int_equal(after.dl_status, RECORDER_HAZARD_DL_PENDING);
}

static void test_hazard_reopened_runs_a_new_deadline_of_the_policy_or_its_own(void **state)
{
    (void)state;
    struct ay_district_policy p;
    struct recorder_hazard_dl_plan plan;
    struct recorder_hazard h = hazard_in(VERIFIED);
    struct recorder_hazard after = h;
    ay_policy_defaults(&p);
    p.hazard_rectification_s[FIRE][0] = 7 * 86400; /* fire: a week for a general one */
    h.dl_status = RECORDER_HAZARD_DL_MET;

    recorder_hazard_plan_deadline(&h, REOPENED, 0, 10 * DAY, &p, &plan, &after);
    assert_int_equal(plan.action, RECORDER_HAZARD_DL_START);
    assert_int_equal(plan.seq, 1);
    assert_true(plan.due_us == 17 * DAY);
    after = h;
    recorder_hazard_plan_deadline(&h, REOPENED, 12 * DAY, 10 * DAY, &p, &plan, &after);
    assert_true(plan.due_us == 12 * DAY);
    assert_true(after.dl_due_us == 12 * DAY);
}

static void test_hazard_deadline_states_by_their_words(void **state)
{
    (void)state;
    assert_int_equal(recorder_hazard_dl_parse("pending"), RECORDER_HAZARD_DL_PENDING);
    assert_int_equal(recorder_hazard_dl_parse("missed"), RECORDER_HAZARD_DL_MISSED);
    assert_int_equal(recorder_hazard_dl_parse("met"), RECORDER_HAZARD_DL_MET);
    assert_int_equal(recorder_hazard_dl_parse("cancelled"), RECORDER_HAZARD_DL_CANCELLED);
    assert_int_equal(recorder_hazard_dl_parse(""), RECORDER_HAZARD_DL_NONE);
    assert_int_equal(recorder_hazard_dl_parse(NULL), RECORDER_HAZARD_DL_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hazard_the_legal_path_ends_in_closing),
        cmocka_unit_test(test_hazard_every_illegal_step_is_refused_naming_the_rule),
        cmocka_unit_test(
            test_hazard_the_verifier_is_neither_the_responsible_person_nor_the_reporter),
        cmocka_unit_test(test_hazard_reopened_from_rectified_or_verified_then_rectifying_again),
        cmocka_unit_test(test_hazard_a_move_is_another_status_or_a_new_deadline),
        cmocka_unit_test(test_hazard_interim_measures_when_it_cannot_be_fixed_at_once),
        cmocka_unit_test(test_hazard_rectified_meets_the_deadline_pending_or_missed),
        cmocka_unit_test(test_hazard_a_new_deadline_moves_a_pending_one_and_follows_a_missed_one),
        cmocka_unit_test(test_hazard_reopened_runs_a_new_deadline_of_the_policy_or_its_own),
        cmocka_unit_test(test_hazard_deadline_states_by_their_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
