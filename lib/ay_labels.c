/*
 * ay_labels.c - bilingual labels for every enum value of anyuan.v1.
 *
 * The Chinese follows the comments in proto/anyuan/v1 and the wording of the
 * source documents (domain.md); English is for integrators and logs of
 * people-facing text. Keep the table grouped by enum, in proto order.
 */
#include "ay_labels.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct label {
    const char *value_name;
    const char *zh;
    const char *en;
};

static const struct label labels[] = {
    /* AlarmKind (alarm.proto) */
    {"ALARM_KIND_UNSPECIFIED", "未指定", "Unspecified"},
    {"ALARM_KIND_PANIC", "紧急求助", "Panic"},
    {"ALARM_KIND_INTRUSION", "非法闯入", "Intrusion"},
    {"ALARM_KIND_FIRE", "火警", "Fire"},
    {"ALARM_KIND_MEDICAL", "医疗急救", "Medical emergency"},
    {"ALARM_KIND_DURESS", "胁迫", "Duress"},
    {"ALARM_KIND_VIOLENCE", "暴力事件", "Violence"},
    {"ALARM_KIND_OTHER", "其他", "Other"},
    /* AlarmSource */
    {"ALARM_SOURCE_UNSPECIFIED", "未指定", "Unspecified"},
    {"ALARM_SOURCE_SCHOOL", "校园内", "On campus"},
    {"ALARM_SOURCE_NEARBY_SHOP", "周边商户", "Nearby shop"},
    {"ALARM_SOURCE_NEARBY_HOME", "周边居民户", "Nearby home"},
    /* AlarmCancelReason */
    {"ALARM_CANCEL_REASON_UNSPECIFIED", "未指定", "Unspecified"},
    {"ALARM_CANCEL_REASON_RESTORED", "已恢复", "Restored"},
    {"ALARM_CANCEL_REASON_FALSE_ALARM", "误报", "False alarm"},
    {"ALARM_CANCEL_REASON_TEST_OVER", "测试结束", "Test over"},
    /* Severity (common.proto) */
    {"SEVERITY_UNSPECIFIED", "未指定", "Unspecified"},
    {"SEVERITY_I", "特别重大（I级）", "Particularly serious (I)"},
    {"SEVERITY_II", "重大（II级）", "Serious (II)"},
    {"SEVERITY_III", "较大（III级）", "Relatively serious (III)"},
    {"SEVERITY_IV", "一般（IV级）", "General (IV)"},
    /* DeviceState (device.proto) */
    {"DEVICE_STATE_UNSPECIFIED", "未指定", "Unspecified"},
    {"DEVICE_STATE_HEARTBEAT", "心跳", "Heartbeat"},
    {"DEVICE_STATE_ONLINE", "上线", "Online"},
    {"DEVICE_STATE_OFFLINE", "离线", "Offline"},
    /* HazardCategory (hazard.proto) */
    {"HAZARD_CATEGORY_UNSPECIFIED", "未指定", "Unspecified"},
    {"HAZARD_CATEGORY_NATIONAL_SECURITY", "国家安全", "National security"},
    {"HAZARD_CATEGORY_VIOLENT_TERRORISM", "暴力恐怖", "Violent terrorism"},
    {"HAZARD_CATEGORY_MASS_PETITION", "群体上访", "Mass petition"},
    {"HAZARD_CATEGORY_FOOD_HYGIENE_EPIDEMIC", "食品卫生与疫情", "Food hygiene and epidemics"},
    {"HAZARD_CATEGORY_BULLYING_EARLY_MARRIAGE", "欺凌与早婚早育", "Bullying and early marriage"},
    {"HAZARD_CATEGORY_CAMPUS_LOAN", "校园贷", "Campus loans"},
    {"HAZARD_CATEGORY_PYRAMID_FRAUD", "传销与电信诈骗", "Pyramid schemes and telephone fraud"},
    {"HAZARD_CATEGORY_ONLINE_OPINION", "网络舆情", "Online public opinion"},
    {"HAZARD_CATEGORY_FACILITY", "校园设施", "Campus facilities"},
    {"HAZARD_CATEGORY_SURROUNDINGS_ORDER", "周边治安秩序", "Surroundings and public order"},
    {"HAZARD_CATEGORY_DROWNING", "防溺水", "Drowning"},
    {"HAZARD_CATEGORY_TRAFFIC", "交通", "Traffic"},
    {"HAZARD_CATEGORY_FIRE", "消防", "Fire"},
    {"HAZARD_CATEGORY_BUILDING", "校舍", "School buildings"},
    {"HAZARD_CATEGORY_LAB_CHEMICAL", "实验室危化品", "Laboratory chemicals"},
    {"HAZARD_CATEGORY_DORMITORY", "宿舍", "Dormitories"},
    {"HAZARD_CATEGORY_CONSTRUCTION_SITE", "在建工地", "Construction sites"},
    {"HAZARD_CATEGORY_NATURAL_DISASTER", "自然灾害", "Natural disasters"},
    {"HAZARD_CATEGORY_CO_POISONING", "一氧化碳中毒", "Carbon monoxide poisoning"},
    {"HAZARD_CATEGORY_OTHER", "其他", "Other"},
    /* HazardGrade */
    {"HAZARD_GRADE_UNSPECIFIED", "未指定", "Unspecified"},
    {"HAZARD_GRADE_GENERAL", "一般隐患", "General hazard"},
    {"HAZARD_GRADE_MAJOR", "重大隐患", "Major hazard"},
    /* HazardStatus */
    {"HAZARD_STATUS_UNSPECIFIED", "未指定", "Unspecified"},
    {"HAZARD_STATUS_REGISTERED", "已登记", "Registered"},
    {"HAZARD_STATUS_RECTIFYING", "整改中", "Being rectified"},
    {"HAZARD_STATUS_RECTIFIED", "已整改", "Rectified"},
    {"HAZARD_STATUS_VERIFIED", "已查验", "Verified"},
    {"HAZARD_STATUS_CLOSED", "已销号", "Closed"},
    {"HAZARD_STATUS_REOPENED", "重新打开", "Reopened"},
    /* IncidentCategory (incident.proto) */
    {"INCIDENT_CATEGORY_UNSPECIFIED", "未指定", "Unspecified"},
    {"INCIDENT_CATEGORY_STUDENT_MISSING", "学生离校出走/失踪", "Student missing"},
    {"INCIDENT_CATEGORY_ACCIDENTAL_INJURY", "意外伤害", "Accidental injury"},
    {"INCIDENT_CATEGORY_INFECTIOUS_DISEASE", "传染病疫情", "Infectious disease outbreak"},
    {"INCIDENT_CATEGORY_FOOD_POISONING", "食物中毒", "Food poisoning"},
    {"INCIDENT_CATEGORY_BULLYING", "校园欺凌", "Bullying"},
    {"INCIDENT_CATEGORY_VIOLENCE", "暴力伤害", "Violent injury"},
    {"INCIDENT_CATEGORY_DROWNING", "溺水", "Drowning"},
    {"INCIDENT_CATEGORY_TRAFFIC", "交通事故", "Traffic accident"},
    {"INCIDENT_CATEGORY_FIRE", "火灾", "Fire"},
    {"INCIDENT_CATEGORY_BUILDING", "校舍安全事故", "School building accident"},
    {"INCIDENT_CATEGORY_LAB_CHEMICAL", "实验室危化品", "Laboratory chemicals"},
    {"INCIDENT_CATEGORY_CO_POISONING", "一氧化碳中毒", "Carbon monoxide poisoning"},
    {"INCIDENT_CATEGORY_NATURAL_DISASTER", "自然灾害", "Natural disaster"},
    {"INCIDENT_CATEGORY_TERRORISM", "暴恐事件", "Terrorist attack"},
    {"INCIDENT_CATEGORY_MASS_INCIDENT", "群体性事件", "Mass incident"},
    {"INCIDENT_CATEGORY_FRAUD", "电信诈骗/传销", "Telephone fraud or pyramid scheme"},
    {"INCIDENT_CATEGORY_PUBLIC_OPINION", "网络舆情", "Online public opinion"},
    {"INCIDENT_CATEGORY_OTHER", "其他", "Other"},
    /* ReportKind */
    {"REPORT_KIND_UNSPECIFIED", "未指定", "Unspecified"},
    {"REPORT_KIND_INITIAL_WRITTEN", "书面报告", "Written report"},
    {"REPORT_KIND_FOLLOW_UP", "续报", "Follow-up report"},
    {"REPORT_KIND_FINAL", "终报", "Final report"},
    /* DeadlineKind (outbound.proto) */
    {"DEADLINE_KIND_UNSPECIFIED", "未指定", "Unspecified"},
    {"DEADLINE_KIND_VERBAL_NOTICE", "口头报告", "Verbal notice"},
    {"DEADLINE_KIND_WRITTEN_REPORT", "书面报告", "Written report"},
    {"DEADLINE_KIND_FINAL_REPORT", "终报", "Final report"},
    {"DEADLINE_KIND_HAZARD_RECTIFICATION", "隐患整改时限", "Hazard rectification"},
    {"DEADLINE_KIND_MONTHLY_REPORT", "安全月报", "Monthly safety report"},
    {"DEADLINE_KIND_ACKNOWLEDGEMENT", "签收", "Acknowledgement"},
    {"DEADLINE_KIND_ALARM_NOTICE", "报警后事件报告", "Notice after an alarm"},
    {"DEADLINE_KIND_FOLLOW_UP_REPORT", "续报", "Follow-up report"},
    {"DEADLINE_KIND_RISK_REPORT", "风险研判报告", "Risk report (every two months)"},
    {"DEADLINE_KIND_HAZARD_SELF_CHECK", "隐患自查报告", "Hazard self-inspection report"},
    /* ReceiptStatus */
    {"RECEIPT_STATUS_UNSPECIFIED", "未指定", "Unspecified"},
    {"RECEIPT_STATUS_STORED", "已存档", "Stored"},
    {"RECEIPT_STATUS_DUPLICATE", "重复", "Duplicate"},
    {"RECEIPT_STATUS_REJECTED", "拒收", "Rejected"},
    /* SubjectKind */
    {"SUBJECT_KIND_UNSPECIFIED", "未指定", "Unspecified"},
    {"SUBJECT_KIND_ALARM", "一键报警", "Alarm"},
    {"SUBJECT_KIND_INCIDENT", "安全事件", "Incident"},
    {"SUBJECT_KIND_HAZARD", "安全隐患", "Hazard"},
    {"SUBJECT_KIND_MONTHLY_REPORT", "定期报告", "Periodic report"},
    {"PERIODIC_REPORT_KIND_UNSPECIFIED", "未指定", "Unspecified"},
    {"PERIODIC_REPORT_KIND_MONTHLY_SAFETY", "安全月报表", "Monthly safety report"},
    {"PERIODIC_REPORT_KIND_RISK", "风险研判报告", "Risk report (every two months)"},
    {"PERIODIC_REPORT_KIND_HAZARD_SELF_CHECK", "隐患自查报告", "Hazard self-inspection report"},
    {"SUBJECT_KIND_DEVICE", "报警设备", "Device"},
    /* EscalationReason */
    {"ESCALATION_REASON_UNSPECIFIED", "未指定", "Unspecified"},
    {"ESCALATION_REASON_ALARM", "一键报警", "Alarm raised"},
    {"ESCALATION_REASON_DEADLINE_MISSED", "迟报", "Deadline missed"},
    {"ESCALATION_REASON_NOT_ACKNOWLEDGED", "未及时签收", "Not acknowledged"},
    {"ESCALATION_REASON_MAJOR_INCIDENT", "重大事件", "Major incident"},
    {"ESCALATION_REASON_SUSPECTED_CRIME", "强制报告（涉嫌犯罪）", "Suspected crime"},
    {"ESCALATION_REASON_MAJOR_HAZARD", "重大隐患", "Major hazard"},
    {"ESCALATION_REASON_BEYOND_AUTHORITY", "超出职权，报当地政府", "Beyond the bureau's authority"},
    {"ESCALATION_REASON_DEVICE_OFFLINE", "报警设备离线", "Device offline"},
    {"ESCALATION_REASON_POSSIBLE_CONCEALMENT", "疑似瞒报（报警后未报告）", "Possible concealment"},
    {"ESCALATION_REASON_INCIDENT", "事件报告", "Incident reported"},
    {"ESCALATION_REASON_UNRESOLVED", "已签收未处置", "Acknowledged, unresolved"},
    {"ESCALATION_REASON_LOW_BATTERY", "报警设备电量低", "Device battery low"},
    {"ESCALATION_REASON_TAMPER", "报警设备被拆动", "Device tampered with"},
    {"ESCALATION_REASON_DEVICE_FAULT", "报警设备故障", "Device fault"},
    /* NotificationKind */
    {"NOTIFICATION_KIND_UNSPECIFIED", "未指定", "Unspecified"},
    {"NOTIFICATION_KIND_FIRST", "首次通知", "First notice"},
    {"NOTIFICATION_KIND_REMINDER", "提醒", "Reminder"},
    {"NOTIFICATION_KIND_CLIMB", "升级", "Escalated to the next level"},
    {"NOTIFICATION_KIND_REESCALATION", "再升级", "Re-escalated (unresolved)"},
    {"NOTIFICATION_KIND_RESOLVED", "已恢复", "Resolved (it is over)"},
    /* Audience */
    {"AUDIENCE_UNSPECIFIED", "未指定", "Unspecified"},
    {"AUDIENCE_POLICE", "公安（110/派出所）", "Police"},
    {"AUDIENCE_BUREAU", "区县教育局", "Education bureau"},
    {"AUDIENCE_GOVERNMENT", "当地党委政府", "Local government"},
    {"AUDIENCE_SCHOOL", "学校", "School"},
    /* AckKind */
    {"ACK_KIND_UNSPECIFIED", "未指定", "Unspecified"},
    {"ACK_KIND_RECEIVED", "已签收", "Received"},
    {"ACK_KIND_DISPATCHED", "已出警/已派员", "Dispatched"},
    {"ACK_KIND_ON_SCENE", "已到场", "On scene"},
    {"ACK_KIND_RESOLVED", "已处置", "Resolved"},
    {"ACK_KIND_FALSE_ALARM", "误报", "False alarm"},
    /* PoliceAlarmEvent (police.proto) */
    {"POLICE_ALARM_EVENT_UNSPECIFIED", "未指定", "Unspecified"},
    {"POLICE_ALARM_EVENT_ALARM", "报警", "Alarm"},
    {"POLICE_ALARM_EVENT_CANCEL", "撤警", "Alarm cancelled"},
};

const char *ay_label_of(const char *value_name, enum ay_lang lang)
{
    for (size_t i = 0; value_name != NULL && i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strcmp(labels[i].value_name, value_name) == 0)
            return lang == AY_LANG_EN ? labels[i].en : labels[i].zh;
    }
    return NULL;
}

const char *ay_label(const ProtobufCEnumDescriptor *desc, int value, enum ay_lang lang)
{
    const ProtobufCEnumValue *ev = desc ? protobuf_c_enum_descriptor_get_value(desc, value) : NULL;

    if (ev == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strcmp(labels[i].value_name, ev->name) == 0)
            return lang == AY_LANG_EN ? labels[i].en : labels[i].zh;
    }
    return NULL;
}

enum ay_lang ay_lang_parse(const char *s)
{
    /* Primary subtag only (BCP 47), so "en", "en-GB" and "en_US.UTF-8" are English. */
    if (s != NULL && strncasecmp(s, "en", 2) == 0 &&
        (s[2] == '\0' || s[2] == '-' || s[2] == '_' || s[2] == '.'))
        return AY_LANG_EN;
    return AY_LANG_ZH;
}
