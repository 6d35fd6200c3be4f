/*
 * test_msgtype.c - the registry of contract message types (lib/ay_msgtype.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "anyuan/v1/alarm.pb-c.h"
#include "anyuan/v1/common.pb-c.h"
#include "anyuan/v1/device.pb-c.h"
#include "anyuan/v1/hazard.pb-c.h"
#include "anyuan/v1/incident.pb-c.h"
#include "anyuan/v1/monthly.pb-c.h"
#include "anyuan/v1/outbound.pb-c.h"
#include "anyuan/v1/police.pb-c.h"
#include "ay_msgtype.h"

struct expected {
    const char *name;
    enum ay_direction direction;
    const ProtobufCMessageDescriptor *desc;
};

static const struct expected contract[] = {
    {"alarm", AY_DIR_INBOUND, &anyuan__v1__alarm__descriptor},
    {"alarm-cancel", AY_DIR_INBOUND, &anyuan__v1__alarm_cancel__descriptor},
    {"notice", AY_DIR_INBOUND, &anyuan__v1__incident_notice__descriptor},
    {"report", AY_DIR_INBOUND, &anyuan__v1__incident_report__descriptor},
    {"hazard", AY_DIR_INBOUND, &anyuan__v1__hazard_report__descriptor},
    {"hazard-update", AY_DIR_INBOUND, &anyuan__v1__hazard_update__descriptor},
    {"monthly", AY_DIR_INBOUND, &anyuan__v1__monthly_report__descriptor},
    {"status", AY_DIR_INBOUND, &anyuan__v1__device_status__descriptor},
    {"receipt", AY_DIR_OUTBOUND, &anyuan__v1__receipt__descriptor},
    {"escalation", AY_DIR_OUTBOUND, &anyuan__v1__escalation__descriptor},
    {"ack", AY_DIR_ACK, &anyuan__v1__ack__descriptor},
    {"police-alarm", AY_DIR_OUTBOUND, &anyuan__v1__police_alarm__descriptor},
};

#define CONTRACT_COUNT (sizeof(contract) / sizeof(contract[0]))

static void test_msgtype_maps_every_contract_name_to_its_descriptor_and_direction(void **state)
{
    (void)state;
    for (size_t i = 0; i < CONTRACT_COUNT; i++) {
        const struct ay_msgtype *t = ay_msgtype_by_name(contract[i].name);
        assert_non_null(t);
        assert_string_equal(t->name, contract[i].name);
        assert_ptr_equal(t->desc, contract[i].desc);
        assert_int_equal(t->direction, contract[i].direction);
        assert_ptr_equal(ay_msgtype_by_desc(contract[i].desc), t);
    }
}

static void test_msgtype_inbound_types_have_topic_kind_equal_to_name(void **state)
{
    size_t n = 0;
    const struct ay_msgtype *all = ay_msgtype_all(&n);
    (void)state;

    assert_int_equal(n, CONTRACT_COUNT);
    for (size_t i = 0; i < n; i++) {
        if (all[i].direction == AY_DIR_INBOUND)
            assert_string_equal(all[i].topic_kind, all[i].name);
        else
            assert_null(all[i].topic_kind);
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(all[i].name, all[k].name);
    }
}

static void test_msgtype_returns_null_for_unknown_names_and_descriptors(void **state)
{
    (void)state;
    assert_null(ay_msgtype_by_name("alarms"));
    assert_null(ay_msgtype_by_name("Alarm"));
    assert_null(ay_msgtype_by_name(""));
    assert_null(ay_msgtype_by_name(NULL));
    assert_null(ay_msgtype_by_desc(&anyuan__v1__header__descriptor));
    assert_null(ay_msgtype_by_desc(&anyuan__v1__deadline__descriptor));
    assert_null(ay_msgtype_by_desc(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msgtype_maps_every_contract_name_to_its_descriptor_and_direction),
        cmocka_unit_test(test_msgtype_inbound_types_have_topic_kind_equal_to_name),
        cmocka_unit_test(test_msgtype_returns_null_for_unknown_names_and_descriptors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
