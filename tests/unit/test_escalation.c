/*
 * test_escalation.c - who is told, when reminders go out, when the chain
 * climbs, and what an acknowledgement changes; with times passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ay_escalation.h"

#define S 1000000LL

/* duty officer: ack 15 min, remind 5; head: 30/10; city: 60/15. */
static struct ay_chain bureau(void)
{
    struct ay_district_policy p;
    ay_policy_defaults(&p);
    return p.chains[AY_AUDIENCE_BUREAU];
}

static void test_escalation_first_step_told_with_its_ack_due(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 1, 4 * 3600, 1000 * S, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].level, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_FIRST);
    assert_true(out[0].ack_due_us == 1000 * S + 900 * S);
    /* The first reminder comes before the ack timeout. */
    assert_true(ay_esc_next_action_us(&e) == 1000 * S + 300 * S);
}

static void test_escalation_major_incident_tells_every_step_up_to_the_start_at_once(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 3, 0, 0, out, &n);
    assert_int_equal(n, 3);
    assert_int_equal(out[2].level, 3);
    assert_int_equal(e.level, 3);
    assert_true(out[0].ack_due_us == 3600 * S); /* the city bureau's clock runs */
}

static void test_escalation_reminds_then_climbs_on_schedule(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 1, 0, 0, out, &n);
    /* A reminder at 5 min (fired 2 s late), the next at 10 min as scheduled. */
    ay_esc_on_timer(&e, 302 * S, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_REMINDER);
    assert_int_equal(e.level, 1);
    assert_true(ay_esc_next_action_us(&e) == 600 * S);
    /* 15 min: climb to step 2, timed from the scheduled 15 min, not from
     * when the watchdog got to it: lateness never adds up along the chain. */
    ay_esc_on_timer(&e, 901 * S, out, &n);
    assert_int_equal(out[0].kind, AY_NOTIFY_CLIMB);
    assert_int_equal(out[0].level, 2);
    assert_true(out[0].ack_due_us == 900 * S + 1800 * S);
}

static void test_escalation_after_an_outage_climbs_once_to_where_it_should_be(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 1, 0, 0, out, &n);
    /* Down for 2 hours: steps 1 and 2 timed out meanwhile. */
    ay_esc_on_timer(&e, 7200 * S, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_CLIMB);
    assert_int_equal(out[0].level, 3);
    assert_true(e.level_since_us == (900 + 1800) * S);
    /* Then reminders only, one at a time, never silent at the last step. */
    ay_esc_on_timer(&e, 7200 * S + 900 * S, out, &n);
    assert_int_equal(out[0].kind, AY_NOTIFY_REMINDER);
    assert_int_equal(out[0].level, 3);
    for (int i = 2; i < 50; i++) {
        ay_esc_on_timer(&e, ay_esc_next_action_us(&e), out, &n);
        assert_int_equal(n, 1);
        assert_int_equal(out[0].kind, AY_NOTIFY_REMINDER);
    }
}

/* A reminder sent late (the watchdog busy) keeps the schedule: the next one
 * is due at its scheduled time, not that much later (bench/watchdog saw
 * reminders drift by each one's lateness); after an outage one reminder
 * goes out and the next keeps the schedule (no storm of the missed ones). */
static void test_escalation_late_reminders_keep_the_schedule(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 1, 0, 0, out, &n);
    ay_esc_on_timer(&e, 300 * S + 2 * S / 10, out, &n); /* 200 ms late */
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_REMINDER);
    assert_true(ay_esc_next_action_us(&e) == 600 * S);
    /* Down from 600 s to 890 s: one reminder at 890 (none at 600), the next
     * timer at 900 (the climb), a reminder not before 1190. */
    ay_esc_on_timer(&e, 890 * S, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_REMINDER);
    ay_esc_on_timer(&e, 895 * S, out, &n);
    assert_int_equal(n, 0);
    assert_true(ay_esc_next_action_us(&e) == 900 * S);
    /* Climbed 3 s late: the head's reminder comes 10 min after the climb's due time. */
    ay_esc_on_timer(&e, 903 * S, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_CLIMB);
    assert_true(ay_esc_next_action_us(&e) == 1500 * S);
}

static void test_escalation_ack_stops_reminders_and_unresolved_reescalates(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 1, 3600, 0, out, &n);
    assert_true(ay_esc_on_ack(&e, 1 /* received */, 60 * S));
    assert_int_equal(e.status, AY_ESC_ACKNOWLEDGED);
    assert_true(ay_esc_next_action_us(&e) == 3660 * S);
    ay_esc_on_timer(&e, 600 * S, out, &n); /* the old reminder time: nothing */
    assert_int_equal(n, 0);
    ay_esc_on_timer(&e, 3660 * S, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_REESCALATION);
    assert_int_equal(out[0].level, 2);
    assert_int_equal(e.status, AY_ESC_OPEN);
}

static void test_escalation_resolved_has_no_more_timers(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 1, 3600, 0, out, &n);
    assert_true(ay_esc_on_ack(&e, 5 /* false alarm */, 10 * S));
    assert_int_equal(e.status, AY_ESC_RESOLVED);
    assert_true(ay_esc_next_action_us(&e) == 0);
    assert_false(ay_esc_on_ack(&e, 1, 20 * S));
    assert_false(ay_esc_on_ack(&e, 99, 20 * S));
}

/* Tracked supervision (挂牌督办): an ack does not stop the reminders, a
 * "resolved" ack does not close it; only its subject's end does. */
static void test_escalation_supervision_reminds_after_every_ack_until_ended(void **state)
{
    (void)state;
    struct ay_chain c = bureau();
    struct ay_esc e;
    struct ay_esc_notice out[AY_ESC_NOTICES_MAX];
    int n = 0;

    ay_esc_start(&e, &c, 1, 4 * 3600, 0, out, &n);
    e.supervise_s = 86400;
    assert_true(ay_esc_on_ack(&e, 1, 60 * S)); /* received */
    assert_int_equal(e.status, AY_ESC_ACKNOWLEDGED);
    /* A day after the ack, not the unresolved re-escalation 4 h later. */
    assert_true(ay_esc_next_action_us(&e) == 60 * S + 86400 * S);
    ay_esc_on_timer(&e, 4 * 3600 * S + 60 * S, out, &n);
    assert_int_equal(n, 0);
    ay_esc_on_timer(&e, 60 * S + 86400 * S + 2 * S, out, &n);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].kind, AY_NOTIFY_REMINDER);
    assert_int_equal(out[0].level, 1); /* the same step: no climb */
    assert_int_equal(e.status, AY_ESC_ACKNOWLEDGED);
    assert_true(ay_esc_next_action_us(&e) == 60 * S + 2 * 86400 * S); /* on schedule */
    /* "Resolved" by the audience: still supervised, still reminded. */
    assert_true(ay_esc_on_ack(&e, 4, 90000 * S));
    assert_int_equal(e.status, AY_ESC_ACKNOWLEDGED);
    assert_true(ay_esc_next_action_us(&e) == 90000 * S + 86400 * S);
    /* Unacknowledged, it reminds and climbs like any other. */
    ay_esc_start(&e, &c, 1, 4 * 3600, 0, out, &n);
    e.supervise_s = 86400;
    ay_esc_on_timer(&e, 900 * S, out, &n);
    assert_int_equal(out[0].kind, AY_NOTIFY_CLIMB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escalation_first_step_told_with_its_ack_due),
        cmocka_unit_test(test_escalation_major_incident_tells_every_step_up_to_the_start_at_once),
        cmocka_unit_test(test_escalation_reminds_then_climbs_on_schedule),
        cmocka_unit_test(test_escalation_after_an_outage_climbs_once_to_where_it_should_be),
        cmocka_unit_test(test_escalation_late_reminders_keep_the_schedule),
        cmocka_unit_test(test_escalation_ack_stops_reminders_and_unresolved_reescalates),
        cmocka_unit_test(test_escalation_resolved_has_no_more_timers),
        cmocka_unit_test(test_escalation_supervision_reminds_after_every_ack_until_ended),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
